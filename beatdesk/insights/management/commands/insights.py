"""``beatdesk insights collect|refresh|rebuild|weekly``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from beatdesk.agencies.models import Agency
from beatdesk.insights import collect, figures, report


class Command(BaseCommand):
    help = (
        "Insights: collect platform metrics and audiences, refresh (or fully rebuild) the "
        "daily figures, make the weekly leadership report. All run on the channels loop too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["collect", "refresh", "rebuild", "weekly"])
        parser.add_argument("--agency", help="agency slug (default: every agency)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        action = options["action"]
        if action == "collect":
            posts = collect.collect_metrics(now)
            accounts = collect.collect_audience(now)
            self.stdout.write(
                f"metrics updated for {posts} post(s); {accounts} audience snapshot(s)"
            )
            return
        agencies = Agency.objects.all()
        if options["agency"]:
            agencies = agencies.filter(slug=options["agency"])
            if not agencies.exists():
                self.stderr.write(f"No agency with slug {options['agency']!r}")
                raise SystemExit(2)
        for agency in agencies:
            if action == "weekly":
                figures.refresh(agency, now=now)
                made = report.make_weekly(agency, now)
                self.stdout.write(
                    f"{agency.slug}: " + (f"made {made}" if made else "this week's report exists")
                )
                continue
            started = timezone.now()
            days = figures.refresh(agency, now=now, full=action == "rebuild")
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(f"{agency.slug}: {days} day(s) built in {seconds:.1f} s")
