"""Trigram indexes for free-text search on PostgreSQL.

The inbox searches contacts by any part of a name, username or phone number
(``LIKE '%term%'``), which a B-tree cannot serve. On PostgreSQL, pg_trgm GIN
indexes on the exact expressions the ORM emits turn those scans into index
lookups. SQLite, the embedded default for small installations, needs nothing:
the operation does nothing there, so one set of migrations still serves both.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

TRIGRAM_INDEXES = (
    ("contact_name_trgm", "contact", 'UPPER(CAST("display_name" AS VARCHAR))'),
    ("contact_username_trgm", "contact", 'UPPER(CAST("username" AS VARCHAR))'),
    ("contact_phone_trgm", "contact", 'CAST("phone" AS VARCHAR)'),
)


def is_postgres(schema_editor) -> bool:
    return schema_editor.client.capabilities.dialect == "postgres"


async def create_trigram_indexes(apps, schema_editor) -> None:
    if not is_postgres(schema_editor):
        return
    await schema_editor.client.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in TRIGRAM_INDEXES:
        await schema_editor.client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f"USING gin (({expression}) gin_trgm_ops)"
        )


async def drop_trigram_indexes(apps, schema_editor) -> None:
    if not is_postgres(schema_editor):
        return
    for name, _, _ in TRIGRAM_INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(create_trigram_indexes, drop_trigram_indexes)]
