"""Forms for agency administration; querysets are always limited to one agency."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from .geometry import GeometryError, validate_geometry
from .models import Agency, Area, Staff, Team
from .roles import Role


class AreaForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Area.Kind.choices)
    parent = forms.ModelChoiceField(queryset=Area.objects.none(), required=False)
    code = forms.CharField(max_length=20, required=False, help_text="ONS code, if any")
    boundary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional GeoJSON Polygon or MultiPolygon (longitude, latitude).",
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        parent_field = self.fields["parent"]
        assert isinstance(parent_field, forms.ModelChoiceField)
        parent_field.queryset = Area.objects.filter(agency=agency).exclude(
            kind=Area.Kind.NEIGHBOURHOOD
        )

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip()
        if code and Area.objects.filter(agency=self.agency, code=code).exists():
            raise forms.ValidationError("Another area already has this code.")
        return code

    def clean_boundary(self) -> dict[str, Any] | None:
        raw = str(self.cleaned_data["boundary"]).strip()
        if not raw:
            return None
        try:
            geometry = json.loads(raw)
            if isinstance(geometry, dict) and geometry.get("type") == "Feature":
                geometry = geometry.get("geometry")
            validate_geometry(geometry)
        except (json.JSONDecodeError, GeometryError, TypeError, ValueError) as exc:
            raise forms.ValidationError(f"Not a usable boundary: {exc}") from exc
        assert isinstance(geometry, dict)
        return geometry


class TeamForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Team.Kind.choices)
    areas = forms.ModelMultipleChoiceField(
        queryset=Area.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    staffed_24_7 = forms.BooleanField(required=False, label="Staffed 24/7")

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        areas_field = self.fields["areas"]
        assert isinstance(areas_field, forms.ModelMultipleChoiceField)
        areas_field.queryset = Area.objects.filter(agency=agency).order_by("kind", "name")


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, agency: Agency, editing: Staff | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        teams_field = self.fields["teams"]
        assert isinstance(teams_field, forms.ModelMultipleChoiceField)
        teams_field.queryset = Team.objects.filter(agency=agency)
        if editing is not None:
            del self.fields["username"]


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Recorded in the audit trail.")
