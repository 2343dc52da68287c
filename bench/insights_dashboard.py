"""Insights dashboard over a force-year on PostgreSQL: p95 latency of the dashboard (read
from the daily figures) beside a naive ORM aggregation of the source tables.

    scripts/with-postgres.sh .venv/bin/python bench/insights_dashboard.py            # 5M
    scripts/with-postgres.sh .venv/bin/python bench/insights_dashboard.py --scale 0.02

PostgreSQL only (``BEATDESK_DATABASE_URL`` or ``--database-url``; SQLite is refused). The
bench creates its own database (``--database``, default ``beatdesk_bench_insights``) on
that server, migrates it, and drops it at the end unless ``--keep`` is given; ``--reuse``
measures a database kept by an earlier run without generating it again.

Data: one agency's year up to last midnight (local time), generated with set-based SQL
(``INSERT ... SELECT`` over ``generate_series``; triggers, and so foreign-key checks,
are off during the load when the role may do so, and every foreign key is checked
after it). At ``--scale 1``: a force area, 12 districts, 100 neighbourhoods
(rectangles), 60 teams, 200 replay accounts (20 force-wide, 3 per team), 5,000,000
inbound messages with their triage, ~3,000,000 conversations from ~800,000 public
contacts, first responses (log-normal by priority, slower out of office hours and in
the surge week), closures with reasons, ~3,000 intelligence reports, 50,000 posts with
~65,000 published deliveries and their metrics, and an audience snapshot per account
per day (some failed on the platform, some missing, a few accounts without any in the
last ten days). Messages follow a daily and weekly shape, a summer swell, bonfire night and
new year, and a surge week six weeks before the end. Counts scale with ``--scale``;
the agency's structure and the 365 days do not. Message payloads are short (about 150
bytes), so the source tables are smaller than real ones: the naive figures are, if
anything, flattered.

Measured, in this order, in one process:

1. ``figures.refresh(agency, full=True)``: the build of every day's figures.
2. The dashboard: ``dashboard.build_dashboard`` plus ``report.page_context`` (the
   headline table, breakdowns, response rows, series and charts the page renders) for
   scope agency / a district / a team / an account x periods of 7 days, 28 days, the
   last calendar quarter and the whole year, each compared with the period before;
   ``--rounds`` shuffled rounds after one warm-up round. The year's previous period
   holds no data (the force-year is all there is), so a stress line also times the year
   compared with itself (two full years of rows), outside the target mix.
3. Baseline: a naive ORM aggregation of the same headline figures from the source
   tables per request (counts by category and priority, first-response seconds fetched
   and percentiles computed in Python, met and missed, outcomes, posts and deliveries
   with metric sums, each account's latest audience snapshot), written again from the
   rules ``figures.py`` describes (outcomes and response figures on the day a
   conversation started, spam and abuse closures left out), for the same mix,
   ``--baseline-rounds`` rounds or until ``--baseline-budget`` seconds are spent (the
   first round always completes).
4. Agreement: every request of the baseline's first round against the dashboard's
   figures (counts exact; medians and 90th percentiles within their histogram step).
   The exit status is 1 when they disagree.

Printed: median / p95 / max per period and overall for both, their ratio, the build
time, row counts, table sizes and machine notes.

The code is in the package ``bench/insights/``: ``traffic`` (the year's shape),
``structure`` (the agency), ``generate`` (the load), ``mix`` (the requests),
``baseline`` (the naive aggregation and the agreement check), ``measure``, ``report``
and ``main`` (the run from end to end).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project (``beatdesk``, ``config``) is imported from the repository root; the
# bench's package ``insights`` from this folder, which Python puts first on the path
# when it runs this file.
sys.path.insert(0, str(ROOT))

from insights.main import main  # noqa: E402 (the path above first)

if __name__ == "__main__":
    raise SystemExit(main(__doc__.splitlines()[0]))
