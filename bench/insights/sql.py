"""SQL for the bench: literals, set-based loads into the models' tables, the foreign-key
check after a load without triggers, and the bench database's own lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from django.db.models import Model


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_time(moment: datetime) -> str:
    return f"'{moment.astimezone(UTC).isoformat()}'::timestamptz"


def sql_array(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(sql_text(v) for v in values) + "]"


def cumulative_case(column: str, choices: Sequence[tuple[str, float]]) -> str:
    """CASE over a uniform random ``column``: each choice up to its cumulative share."""
    if len(choices) == 1:
        return sql_text(choices[0][0])
    parts = [f"WHEN {column} < {upper!r} THEN {sql_text(name)}" for name, upper in choices[:-1]]
    return f"CASE {' '.join(parts)} ELSE {sql_text(choices[-1][0])} END"


def execute(sql: str, params: Sequence[Any] | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return int(cur.rowcount)


def scalar(sql: str, params: Sequence[Any] | None = None) -> Any:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row else None


def insert_select(model: type[Model], values: dict[str, str], rest: str) -> int:
    """``INSERT INTO`` the model's table ``SELECT`` the given SQL per column, ``rest``
    being the FROM clause onwards. Every other NOT NULL column gets the model's default
    (the empty string for text, ``now()`` for auto timestamps); one without a default
    is an error here, not a half-loaded table."""
    from django.db import connection
    from django.db.models import AutoField, BigAutoField, DateTimeField, SmallAutoField

    columns, expressions, params = [], [], []
    known = set(values)
    for fld in model._meta.concrete_fields:
        column = str(fld.column)
        if column in values:
            columns.append(column)
            expressions.append(values[column])
            known.discard(column)
            continue
        if isinstance(fld, AutoField | BigAutoField | SmallAutoField) or fld.null:
            continue
        if fld.unique:
            raise ValueError(f"{model.__name__}.{fld.name} is unique: give it a value")
        default = fld.get_default()
        if default is None:
            if isinstance(fld, DateTimeField):
                columns.append(column)
                expressions.append("now()")
                continue
            raise ValueError(f"{model.__name__}.{fld.name} is NOT NULL and has no default")
        columns.append(column)
        expressions.append("%s")
        params.append(fld.get_db_prep_save(default, connection))
    if known:
        raise ValueError(f"{model.__name__} has no columns {sorted(known)}")
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} {rest}"
    )
    return execute(sql, params or None)


def check_foreign_keys(models: Sequence[type[Model]]) -> None:
    """Every foreign key of the loaded tables points at a row (they were not checked
    row by row during the load)."""
    from django.db.models import ForeignKey

    broken = []
    for model in models:
        table = model._meta.db_table
        for fld in model._meta.concrete_fields:
            if not isinstance(fld, ForeignKey):
                continue
            target = fld.related_model
            assert target is not None and not isinstance(target, str)
            missing = scalar(
                f"SELECT count(*) FROM {table} t WHERE t.{fld.column} IS NOT NULL AND NOT EXISTS"
                f" (SELECT 1 FROM {target._meta.db_table} r"
                f" WHERE r.{fld.target_field.column} = t.{fld.column})"
            )
            if missing:
                broken.append(f"{table}.{fld.column}: {missing} rows point nowhere")
    if broken:
        raise SystemExit("generated data breaks foreign keys:\n  " + "\n  ".join(broken))


# --------------------------------------------------------------------------- database


def admin_and_bench_urls(url: str, name: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return url, urlunsplit(parts._replace(path="/" + name))


def psycopg_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def database_exists(admin_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(psycopg_url(admin_url), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        return row is not None


def create_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(psycopg_url(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(psycopg_url(admin_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
