"""Records forms: validation only; the changes live in ``records.actions``."""

from __future__ import annotations

from django import forms

from .models import RecordType


class RuleForm(forms.Form):
    record_type = forms.ChoiceField(choices=RecordType.choices, widget=forms.HiddenInput)
    keep_days = forms.IntegerField(label="Keep for (days)", min_value=30, max_value=36500)
    reasoning = forms.CharField(
        label="Reasoning", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class RetainForm(forms.Form):
    reason = forms.CharField(
        label="Why it is still needed", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    review_on = forms.DateField(label="Next review", widget=forms.DateInput(attrs={"type": "date"}))
