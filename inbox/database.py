"""The database: Tortoise configuration, start-up and migrations.

One set of migrations (the top-level ``migrations`` package, tortoise-orm's
built-in engine) serves SQLite and PostgreSQL alike. The app never creates
tables by itself: ``inbox migrate`` and ``inbox serve`` apply the migrations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from inbox.settings import Settings

MODELS_MODULE = "inbox.models"
MIGRATIONS_MODULE = "migrations"
SQLITE_FILENAME = "inbox.sqlite3"
POSTGRES_POOL_MAX = 20


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded SQLite file in DATA_DIR."""
    if settings.database_url:
        url = settings.database_url
        # Accept the common spellings; Tortoise's asyncpg backend is "postgres://".
        for prefix in ("postgresql://", "postgresql+asyncpg://"):
            if url.startswith(prefix):
                url = "postgres://" + url[len(prefix) :]
        return url
    path = Path(settings.data_dir) / SQLITE_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite://{path}"


def tortoise_config(url: str) -> dict[str, Any]:
    credentials_extra: dict[str, Any] = {}
    if url.startswith("postgres"):
        credentials_extra = {"maxsize": POSTGRES_POOL_MAX}
    connection: str | dict[str, Any] = url
    if credentials_extra:
        from tortoise.backends.base.config_generator import expand_db_url

        expanded = expand_db_url(url)
        expanded["credentials"].update(credentials_extra)
        connection = expanded
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For `python -m tortoise -c inbox.database.TORTOISE_ORM makemigrations`:
# generating migrations needs the models, not a real database.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


async def apply_migrations(settings: Settings) -> None:
    """Bring the schema up to date in a context of its own, closed afterwards."""
    async with TortoiseContext():
        await migrate(config=tortoise_config(database_url(settings)))


async def open_database(settings: Settings) -> TortoiseContext:
    """Connect the ORM (the schema must already be migrated).

    The context is also the global fallback: uvicorn serves requests in tasks
    that do not inherit the lifespan task's context variables.
    """
    return await Tortoise.init(
        config=tortoise_config(database_url(settings)), _enable_global_fallback=True
    )


async def close_database() -> None:
    await Tortoise.close_connections()


async def ping_database() -> None:
    """Raise if the database does not answer a trivial query."""
    await connections.get("default").execute_query("SELECT 1")
