"""Sign-in bookkeeping: failed-attempt counting and the sessions each person holds."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class LoginAttempt(models.Model):
    """One password or code attempt, kept to enforce the lockout window."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.CharField(max_length=45, blank=True)
    succeeded = models.BooleanField()
    stage = models.CharField(max_length=10, default="password")  # password | totp
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "created_at"])]

    def __str__(self) -> str:
        outcome = "ok" if self.succeeded else "failed"
        return f"{self.username} {self.stage} {outcome}"


class StaffSession(models.Model):
    """A live session, so disabling a person can end every one of them."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"session of {self.staff_id} since {self.created_at:%Y-%m-%d %H:%M}"
