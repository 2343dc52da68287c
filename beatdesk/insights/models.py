"""What insights stores: the latest metrics of our posts, daily audience counts, the
daily figures every dashboard is read from, and the leadership reports.

No personal data of the public is kept here: followers and engagers are sampled,
located and counted in memory; only the counts are stored.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from beatdesk.agencies.models import Agency, Staff
from beatdesk.channels.models import ConnectedAccount, Delivery


class PostMetrics(models.Model):
    """The latest figures the platform gave for one published delivery of ours.

    ``impressions`` is None where the platform does not report reach (Bluesky,
    Mastodon). ``engagers_*`` count a sample of the people who liked or reposted it:
    how many were sampled, how many stated a place we could resolve, and how many of
    those are inside the areas the account serves.
    """

    delivery = models.OneToOneField(
        Delivery, on_delete=models.CASCADE, primary_key=True, related_name="metrics"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    impressions = models.PositiveBigIntegerField(null=True, blank=True)
    engagers_sampled = models.PositiveIntegerField(default=0)
    engagers_located = models.PositiveIntegerField(default=0)
    engagers_local = models.PositiveIntegerField(default=0)
    # Likes + reposts when the engager sample was taken (None: never sampled); the
    # sample is taken again only when they change.
    sample_basis = models.PositiveIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)
    next_fetch_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["agency", "fetched_at"], name="insights_metrics_fetched"),
            models.Index(fields=["next_fetch_at"], name="insights_metrics_due"),
        ]

    def __str__(self) -> str:
        return f"Metrics of delivery {self.delivery_id}"


class AudienceSnapshot(models.Model):
    """One account's audience on one day: its follower count and a located sample."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        ConnectedAccount, on_delete=models.CASCADE, related_name="audience_snapshots"
    )
    day = models.DateField()
    followers = models.PositiveIntegerField(null=True, blank=True)
    sampled = models.PositiveIntegerField(default=0)
    located = models.PositiveIntegerField(default=0)
    local = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField(default=timezone.now)
    # False: the platform could not be read (the note says why); tried again within
    # the hour, and never used as a figure.
    ok = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="insights_audience_daily")
        ]
        indexes = [
            models.Index(fields=["agency", "taken_at"], name="insights_audience_taken"),
            models.Index(fields=["agency", "day"], name="insights_audience_day"),
        ]

    def __str__(self) -> str:
        return f"Audience of account {self.account_id} on {self.day}"


class Scope(models.TextChoices):
    AGENCY = "agency", "Whole agency"
    AREA = "area", "Area"
    TEAM = "team", "Team"
    ACCOUNT = "account", "Account"


class DailyFigures(models.Model):
    """Everything a dashboard shows for one scope on one local day, built from the
    source rows by ``figures.build_days`` (``scope_id`` is 0 for the whole agency).

    ``figures`` is the JSON document described in ``figures.py``; a dashboard reads one
    row per day of each period it shows, so its cost does not grow with traffic.
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    scope_id = models.PositiveIntegerField(default=0)
    day = models.DateField()
    figures = models.JSONField(default=dict)
    built_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "scope", "scope_id", "day"], name="insights_daily_once"
            )
        ]
        indexes = [models.Index(fields=["agency", "day"], name="insights_daily_by_day")]

    def __str__(self) -> str:
        return f"{self.scope} {self.scope_id} on {self.day}"


class BuildState(models.Model):
    """How far an agency's daily figures are built: changes after ``changes_seen_until``
    mark their days for rebuilding on the next refresh."""

    agency = models.OneToOneField(
        Agency, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    changes_seen_until = models.DateTimeField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Insights build state of agency {self.agency_id}"


class Lease(models.Model):
    """Who is doing a piece of insights work right now ("collect", "refresh:<agency>"),
    so two channels loops or a loop and a command never do it twice at once."""

    name = models.CharField(max_length=60, primary_key=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"Lease {self.name} until {self.until}"


class LeadershipReport(models.Model):
    """A PDF report for leadership, made weekly by the schedule or on request."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        REQUESTED = "requested", "Requested"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.AGENCY)
    scope_id = models.PositiveIntegerField(default=0)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day included")
    compare_start = models.DateField()
    compare_end = models.DateField()
    file = models.FileField(upload_to="insights/reports/", max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "period_start", "period_end"],
                condition=models.Q(kind="weekly"),
                name="insights_weekly_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} report {self.period_start} to {self.period_end}"
