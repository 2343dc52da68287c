"""Publishing forms: validation only; the changes themselves live in ``publishing.actions``."""

from __future__ import annotations

from typing import Any

from django import forms

from beatdesk.agencies.models import Staff
from beatdesk.channels.models import ConnectedAccount

from .models import Purpose
from .review import postable_accounts

MEDIA_SLOTS = 4
SCHEDULE_FORMAT = "%Y-%m-%dT%H:%M"


def _schedule_field() -> forms.DateTimeField:
    return forms.DateTimeField(
        label="Schedule for (optional)",
        required=False,
        input_formats=[SCHEDULE_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=SCHEDULE_FORMAT),
        help_text="UK time. Leave empty to post as soon as it is approved.",
    )


class ComposeForm(forms.Form):
    text = forms.CharField(
        label="Post",
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off"}),
        max_length=5000,
    )
    purpose = forms.ChoiceField(label="What is it for?", choices=Purpose.choices)
    accounts = forms.ModelMultipleChoiceField(
        label="Post from",
        queryset=ConnectedAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "account-choice"}),
    )
    scheduled_for = _schedule_field()
    template_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    client_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["accounts"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = postable_accounts(staff)
        for slot in range(1, MEDIA_SLOTS + 1):
            self.fields[f"media_{slot}"] = forms.FileField(
                label=f"Image or video {slot}", required=False
            )
            self.fields[f"alt_{slot}"] = forms.CharField(
                label=f"Description of image or video {slot} (for people who cannot see it)",
                required=False,
                max_length=1500,
            )

    def media_slots(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"media_{n}"], self[f"alt_{n}"]) for n in range(1, MEDIA_SLOTS + 1)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for slot in range(1, MEDIA_SLOTS + 1):
            if cleaned.get(f"media_{slot}") and not str(cleaned.get(f"alt_{slot}", "")).strip():
                self.add_error(
                    f"alt_{slot}", "Describe the image or video for people who cannot see it."
                )
        return cleaned


class EditForm(forms.Form):
    text = forms.CharField(
        label="Post",
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off"}),
        max_length=5000,
    )
    scheduled_for = _schedule_field()


class ApproveForm(forms.Form):
    seen_sha256 = forms.CharField(max_length=64, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason (required to publish a red post)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AppealUpdateForm(forms.Form):
    text = forms.CharField(
        label="Update",
        max_length=500,
        initial="UPDATE: they have been found. Thank you to everyone who shared our appeal.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SettingsForm(forms.Form):
    posts_to_earn_trust = forms.IntegerField(
        label="Approved posts before an author's green posts publish without review",
        min_value=0,
        max_value=1000,
        help_text="0 means every author is trusted from the start.",
    )
    rejection_penalty = forms.IntegerField(
        label="Approved posts taken off an author's record by one rejection",
        min_value=0,
        max_value=1000,
    )
    allowed_domains = forms.CharField(
        label="Link domains posts may use",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, e.g. gmp.police.uk (subdomains are included). "
        "Links elsewhere are flagged for review.",
    )
