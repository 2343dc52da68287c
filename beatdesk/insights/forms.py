"""The dashboard's choices: what it is about, the period, and what to compare it with."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from beatdesk.agencies.models import Agency, Area, Team
from beatdesk.channels.models import ConnectedAccount

from .dashboard import Period
from .models import Scope

MAX_DAYS = 366
DEFAULT_DAYS = 28
EARLIEST = date(2000, 1, 1)


class Compare:
    PREVIOUS = "previous"
    YEAR = "year"
    CUSTOM = "custom"
    CHOICES = [
        (PREVIOUS, "The period just before"),
        (YEAR, "The same weeks a year before"),
        (CUSTOM, "Dates I choose"),
    ]


def scope_choices(agency: Agency) -> list[tuple[str, Any]]:
    """Grouped choices: the agency, then its areas, teams and accounts."""
    areas = [
        (f"area:{a.pk}", f"{a.name} ({a.get_kind_display().lower()})")
        for a in Area.objects.filter(agency=agency)
    ]
    teams = [(f"team:{t.pk}", t.name) for t in Team.objects.filter(agency=agency)]
    accounts = [
        (f"account:{a.pk}", str(a))
        for a in ConnectedAccount.objects.filter(agency=agency).order_by("label")
    ]
    return [
        ("agency", f"All of {agency.short_name}"),
        ("Areas", areas),
        ("Teams", teams),
        ("Accounts", accounts),
    ]


class DashboardForm(forms.Form):
    scope = forms.ChoiceField(label="Show")
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    compare = forms.ChoiceField(label="Compare with", choices=Compare.CHOICES)
    compare_start = forms.DateField(
        label="Compare from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    compare_end = forms.DateField(
        label="Compare to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data: Any, *, agency: Agency, today: date) -> None:
        # The default ends yesterday: today is not over, so comparing it with whole
        # days would show every count as "worse" each morning.
        yesterday = today - timedelta(days=1)
        defaults = {
            "scope": "agency",
            "start": (yesterday - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
            "end": yesterday.isoformat(),
            "compare": Compare.PREVIOUS,
        }
        merged = defaults | {k: v for k, v in (data or {}).items() if v not in ("", None)}
        super().__init__(merged)
        scope_field = self.fields["scope"]
        assert isinstance(scope_field, forms.ChoiceField)
        scope_field.choices = scope_choices(agency)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("start", "end", "compare_start", "compare_end"):
            value = cleaned.get(name)
            if value is not None and value < EARLIEST:
                self.add_error(name, f"Choose a date from {EARLIEST.year} on.")
                cleaned.pop(name, None)
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The period must end on or after its first day.")
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", f"Choose at most {MAX_DAYS} days.")
        if cleaned.get("compare") == Compare.CUSTOM:
            c_start, c_end = cleaned.get("compare_start"), cleaned.get("compare_end")
            if not c_start or not c_end:
                self.add_error("compare_start", "Give both dates of the period to compare with.")
            elif c_end < c_start:
                self.add_error("compare_end", "The period must end on or after its first day.")
            elif (c_end - c_start).days + 1 > MAX_DAYS:
                self.add_error("compare_end", f"Choose at most {MAX_DAYS} days.")
        return cleaned

    def scope_key(self) -> tuple[str, int]:
        value: str = self.cleaned_data["scope"]
        kind, _, ident = value.partition(":")
        if kind not in Scope.values:
            raise forms.ValidationError("Unknown choice")
        return kind, int(ident or 0)

    def periods(self) -> tuple[Period, Period]:
        data = self.cleaned_data
        period = Period(data["start"], data["end"])
        if data["compare"] == Compare.CUSTOM:
            return period, Period(data["compare_start"], data["compare_end"])
        if data["compare"] == Compare.YEAR:
            return period, period.year_before()
        return period, period.previous()

    def problems(self) -> str:
        """Every error message, in one line (for the CSV and PDF refusals)."""
        return "; ".join(str(e) for errors in self.errors.values() for e in errors)

    def query(self) -> str:
        """The form's choices as a query string (for the CSV and PDF links)."""
        from urllib.parse import urlencode

        data = self.cleaned_data
        values = {
            "scope": data["scope"],
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "compare": data["compare"],
        }
        if data["compare"] == Compare.CUSTOM:
            values["compare_start"] = data["compare_start"].isoformat()
            values["compare_end"] = data["compare_end"].isoformat()
        return urlencode(values)
