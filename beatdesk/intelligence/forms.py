"""Intelligence forms: validation only; changes live in ``intelligence.actions``."""

from __future__ import annotations

from typing import Any

from django import forms

from beatdesk.channels.models import InboundMessage

from .models import Assessment, HandlingCode, SourceEvaluation


class MessageChoice(forms.ModelMultipleChoiceField[InboundMessage]):
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, InboundMessage)
        return f"{obj.created_at:%d %b %H:%M} {obj.author_handle}: {obj.text[:120]}"


class ReportForm(forms.Form):
    messages = MessageChoice(
        label="Messages the intelligence comes from",
        queryset=InboundMessage.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    intelligence_text = forms.CharField(
        label="Intelligence (sanitised)",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text="What is known: who, what, where, when. Nothing that identifies the "
        "source; this is what may be shared under the handling code.",
    )
    source_evaluation = forms.ChoiceField(
        label="Source evaluation", choices=SourceEvaluation.choices, widget=forms.RadioSelect
    )
    assessment = forms.ChoiceField(
        label="Intelligence assessment", choices=Assessment.choices, widget=forms.RadioSelect
    )
    handling_code = forms.ChoiceField(
        label="Handling code", choices=HandlingCode.choices, widget=forms.RadioSelect
    )
    handling_conditions = forms.CharField(
        label="Conditions (for handling code C)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source_details = forms.CharField(
        label="Source details (kept apart: intelligence analysts only)",
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who the source is, how they know, how to contact them. Never shared.",
    )
    crime_reference = forms.CharField(
        label="Crime or incident reference (optional)", required=False, max_length=60
    )

    def __init__(self, *args: Any, messages: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["messages"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = messages
