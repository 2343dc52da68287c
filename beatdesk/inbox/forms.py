"""Inbox forms: validation only; the changes themselves live in ``inbox.actions``."""

from __future__ import annotations

from typing import Any

from django import forms

from beatdesk.agencies.models import Team

from .models import Conversation, InboxSettings


class ReplyForm(forms.Form):
    message_id = forms.IntegerField(widget=forms.HiddenInput)
    client_token = forms.CharField(max_length=64, widget=forms.HiddenInput)
    template_key = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label="Reply",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Goes out publicly in the thread, from the account that received it.",
    )
    close_reason = forms.ChoiceField(
        label="Then",
        required=False,
        choices=[("", "Keep the conversation open"), *Conversation.CloseReason.choices],
    )


class CloseForm(forms.Form):
    reason = forms.ChoiceField(choices=Conversation.CloseReason.choices, label="Reason")
    note = forms.CharField(max_length=300, required=False, label="Note (optional)")


class RerouteForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label="Send to team")
    note = forms.CharField(max_length=200, required=False, label="Why (optional)")

    def __init__(self, *args: Any, agency_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(agency_id=agency_id)  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    text = forms.CharField(label="Add a note", widget=forms.Textarea(attrs={"rows": 3}))


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("spam", "Close as spam"),
            ("abuse", "Close as abuse"),
            ("abuse_hide", "Close as abuse and hide on the platform"),
            ("spam_hide", "Close as spam and hide on the platform"),
        ]
    )


class SettingsForm(forms.ModelForm[InboxSettings]):
    class Meta:
        model = InboxSettings
        fields = [
            "p1_minutes",
            "p2_minutes",
            "p3_minutes",
            "p4_minutes",
            "warn_percent",
            "non_emergency_number",
            "online_report_url",
        ]
        labels = {
            "p1_minutes": "P1 (threat to life): acknowledge within, minutes",
            "p2_minutes": "P2 (urgent): minutes",
            "p3_minutes": "P3 (needs a person): minutes",
            "p4_minutes": "P4 (routine): minutes",
            "warn_percent": "Warn and bring in the 24/7 desk at this % of a target",
            "non_emergency_number": "Non-emergency number used in templates",
            "online_report_url": "Online crime reporting address used in templates",
        }
