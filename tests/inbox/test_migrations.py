"""Migrations: they build the whole schema from empty on the run's database,
apply twice without change, and hold every change the models make."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from tortoise import Tortoise, connections
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from inbox.database import apply_migrations, database_url, tortoise_config
from inbox.models import MODELS
from inbox.settings import load_settings


async def test_every_model_has_its_table(db: None) -> None:
    connection = connections.get("default")
    for model in MODELS:
        rows = await connection.execute_query_dict(
            f'SELECT COUNT(*) AS n FROM "{model._meta.db_table}"'
        )
        assert rows[0]["n"] == 0


async def test_sqlite_migrates_from_empty_and_again(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, master_key="k", secret_key="s")
    await apply_migrations(settings)
    await apply_migrations(settings)  # a second run finds nothing to do
    assert (tmp_path / "inbox.sqlite3").exists()
    async with TortoiseContext():
        await Tortoise.init(config=tortoise_config(database_url(settings)))
        tables = await connections.get("default").execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    names = {row["name"] for row in tables}
    assert {model._meta.db_table for model in MODELS} <= names


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
async def test_postgres_migrates_from_empty(tmp_path: Path) -> None:
    import asyncpg

    server_url = os.environ["TEST_DATABASE_URL"]
    name = f"inbox_empty_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = server_url.rsplit("/", 1)[0] + "/" + name
        settings = load_settings(data_dir=tmp_path, database_url=url, master_key="k")
        await apply_migrations(settings)
        await apply_migrations(settings)
        check = await asyncpg.connect(url)
        try:
            rows = await check.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            indexes = await check.fetch(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'message'"
            )
            trigram = await check.fetch(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'contact_%_trgm'"
            )
        finally:
            await check.close()
        assert {model._meta.db_table for model in MODELS} <= {r["tablename"] for r in rows}
        assert any("(workspace_id, conversation_id, created_at, id)" in i["indexdef"]
                   for i in indexes)
        assert len(trigram) == 3  # the PostgreSQL-only search indexes
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_models_hold_no_change_missing_from_migrations() -> None:
    config = tortoise_config("sqlite://:memory:")
    apps_config = config["apps"]
    async with TortoiseContext() as context:
        await Tortoise.init(config=config)
        writers = await MigrationAutodetector(context.apps, apps_config).changes()
    assert writers == [], (
        "the models changed without a migration: run "
        "python -m tortoise -c inbox.database.TORTOISE_ORM makemigrations"
    )
