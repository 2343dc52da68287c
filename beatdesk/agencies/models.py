"""Agencies, their areas and teams, and the staff who sign in.

Everything agency-scoped carries an ``agency`` foreign key; views reach such objects
only through the ``access_*`` helpers in ``access.py``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import Role


class Agency(models.Model):
    """A police force, fire and rescue service or ambulance trust: one tenant."""

    class Kind(models.TextChoices):
        POLICE = "police", "Police force"
        FIRE = "fire", "Fire and rescue service"
        AMBULANCE = "ambulance", "Ambulance service"

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=40)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Demo agencies hold invented staff; only their authenticator codes may be printed
    # by ``beatdesk demo-code``.
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Area(models.Model):
    """A place an agency serves: force area → district → neighbourhood.

    ``boundary`` is a GeoJSON geometry (Polygon or MultiPolygon, WGS84 lon/lat) or
    ``None`` when the area has no mapped boundary.
    """

    class Kind(models.TextChoices):
        FORCE_AREA = "force_area", "Force area"
        DISTRICT = "district", "District"
        NEIGHBOURHOOD = "neighbourhood", "Neighbourhood"

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="areas")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=20, blank=True, help_text="ONS GSS code where one exists")
    boundary = models.JSONField(null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "code"],
                condition=~models.Q(code=""),
                name="area_code_unique_per_agency",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A group of staff; accounts belong to teams and teams serve areas."""

    class Kind(models.TextChoices):
        NEIGHBOURHOOD = "neighbourhood", "Neighbourhood team"
        DIGITAL_DESK = "digital_desk", "Digital desk (24/7)"
        COMMUNICATIONS = "communications", "Corporate communications"
        INTELLIGENCE = "intelligence", "Intelligence"
        STANDARDS = "standards", "Professional standards"
        OTHER = "other", "Other"

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    areas = models.ManyToManyField(Area, blank=True, related_name="teams")
    staffed_24_7 = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="team_name_unique_per_agency")
        ]

    def __str__(self) -> str:
        return self.name


class Staff(AbstractUser):
    """A person who signs in. ``agency`` is null only for installation operators.

    MFA: ``totp_secret`` is set at enrolment and ``totp_confirmed_at`` once a first code
    was verified; ``totp_last_step`` stops a code being replayed within its window.
    """

    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    role = models.CharField(max_length=30, choices=Role.choices, default=Role.OFFICER)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "staff member"
        verbose_name_plural = "staff"
        ordering = ["last_name", "first_name", "username"]

    @property
    def mfa_enrolled(self) -> bool:
        return bool(self.totp_secret) and self.totp_confirmed_at is not None

    def has_role(self, roles: frozenset[str] | set[str]) -> bool:
        return self.role in roles

    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.username = self.username.strip().lower()
        super().save(*args, **kwargs)
