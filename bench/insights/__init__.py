"""The insights dashboard bench: a force-year on PostgreSQL, the dashboard read from
the daily figures against a naive aggregation of the source tables. Run it as
``bench/insights_dashboard.py`` (its docstring says how and what is measured)."""
