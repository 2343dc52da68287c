"""Forms for connecting and assigning accounts; querysets always limited to one agency.

Secret fields are ``PasswordInput(render_value=False)``: a token typed into a form
is never sent back to the browser, not even when the form has errors.
"""

from __future__ import annotations

from typing import Any

from django import forms

from beatdesk.agencies.models import Agency, Area, Staff, Team

from .connectors.replay import available_sources
from .models import ConnectedAccount
from .registry import connector_class


class AssignmentForm(forms.Form):
    label = forms.CharField(max_length=120, required=False, help_text="Name shown on the desk")
    scope = forms.ChoiceField(choices=ConnectedAccount.Scope.choices)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    officer = forms.ModelChoiceField(queryset=Staff.objects.none(), required=False)
    areas = forms.ModelMultipleChoiceField(
        queryset=Area.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="The places this account serves (routing and local reach).",
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.fields["team"]
        officer = self.fields["officer"]
        areas = self.fields["areas"]
        assert isinstance(team, forms.ModelChoiceField)
        assert isinstance(officer, forms.ModelChoiceField)
        assert isinstance(areas, forms.ModelMultipleChoiceField)
        team.queryset = Team.objects.filter(agency=agency).order_by("name")
        officer.queryset = Staff.objects.filter(agency=agency, is_active=True).order_by("username")
        areas.queryset = Area.objects.filter(agency=agency).order_by("kind", "name")


class CredentialsForm(forms.Form):
    """Instance address and the platform's credential fields, for one connector kind."""

    base_url = forms.URLField(
        label="Server address",
        max_length=300,
        required=False,
        assume_scheme="https",
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        connector = connector_class(kind)
        base = self.fields["base_url"]
        base.initial = connector.default_base_url
        base.required = not connector.default_base_url
        base.help_text = (
            f"Default {connector.default_base_url}"
            if connector.default_base_url
            else "Your instance, e.g. https://mastodon.example"
        )
        for name, label, secret in connector.credential_fields:
            self.fields[name] = forms.CharField(
                label=label,
                max_length=4000,
                widget=forms.PasswordInput(render_value=False) if secret else forms.TextInput(),
            )
        self.kind = kind
        self.default_base_url = connector.default_base_url

    def credentials(self) -> dict[str, str]:
        names = [name for name, _, _ in connector_class(self.kind).credential_fields]
        return {name: str(self.cleaned_data[name]).strip() for name in names}

    def server(self) -> str:
        return str(self.cleaned_data.get("base_url") or self.default_base_url)


class ConnectForm(CredentialsForm, AssignmentForm):
    def __init__(self, *args: Any, kind: str, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, kind=kind, agency=agency, **kwargs)


class ReplayForm(forms.Form):
    label = forms.CharField(max_length=120, initial="Drill replay")
    source = forms.ChoiceField(choices=(), help_text="A JSON Lines file in the replay folder.")
    rate_per_minute = forms.IntegerField(min_value=1, max_value=6000, initial=20)
    areas = forms.ModelMultipleChoiceField(
        queryset=Area.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = self.fields["source"]
        areas = self.fields["areas"]
        assert isinstance(source, forms.ChoiceField)
        assert isinstance(areas, forms.ModelMultipleChoiceField)
        source.choices = [(name, name) for name in available_sources()]
        areas.queryset = Area.objects.filter(agency=agency).order_by("kind", "name")
