"""Make the audit table append-only in the database itself.

UPDATE and DELETE are refused by triggers on both PostgreSQL and SQLite, so not even
code with a bug (or a person with the application's credentials) can rewrite history
without first dropping the trigger, which needs the table owner's rights; the hash chain
catches what happens after that. TRUNCATE is not covered by row triggers: production
runs the application as a role without TRUNCATE on this table (docs/operations.md).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "audit_auditevent"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION beatdesk_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit events are append-only (' || TG_OP || ' refused)',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_refuse_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION beatdesk_audit_refuse_change();
CREATE TRIGGER audit_refuse_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION beatdesk_audit_refuse_change();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS audit_refuse_update ON {TABLE};
DROP TRIGGER IF EXISTS audit_refuse_delete ON {TABLE};
DROP FUNCTION IF EXISTS beatdesk_audit_refuse_change();
"""
SQLITE_UP = [
    f"""CREATE TRIGGER audit_refuse_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;""",
    f"""CREATE TRIGGER audit_refuse_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_refuse_update;",
    "DROP TRIGGER IF EXISTS audit_refuse_delete;",
]


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"No append-only triggers for {vendor}")


def remove(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
