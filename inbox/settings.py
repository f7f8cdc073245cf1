"""Settings: one object, read from the environment once and passed around.

Nothing else in the code reads environment variables. With none set the app
runs on the *embedded default*: SQLite and an embedded Redis in ``DATA_DIR``,
with secrets generated once and kept there (mode 0600).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_BYTES = 32
SECRET_FILE_MODE = 0o600


class Settings(BaseSettings):
    """Every tunable of a deployment. Field names map to the upper-case env vars."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("data")
    secret_key: str | None = None
    master_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"

    twilio_api_base: str = "https://api.twilio.com"
    telegram_api_base: str = "https://api.telegram.org"
    graph_api_base: str = "https://graph.facebook.com"
    stripe_api_base: str = "https://api.stripe.com"

    sentry_dsn: str | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    smtp_url: str | None = None
    mail_from: str = "inbox@localhost"

    # Not in the public contract: knobs for operators and tests.
    demo: bool = False
    log_level: str = "INFO"
    media_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    profile_max_age_days: int = Field(default=7, ge=1)
    session_max_age_days: int = Field(default=14, ge=1)
    run_worker_in_process: bool | None = None

    @property
    def embedded_database(self) -> bool:
        return not self.database_url

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def worker_in_process(self) -> bool:
        """On the embedded default the worker runs inside `inbox serve`."""
        if self.run_worker_in_process is not None:
            return self.run_worker_in_process
        return self.embedded_redis

    @property
    def public_https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    def public_link(self, path: str) -> str:
        """An absolute URL under PUBLIC_URL (what providers are told to call)."""
        return self.public_url.rstrip("/") + path


def _read_or_create_secret(path: Path) -> str:
    """Return the secret stored at ``path``, creating it (0600) the first time."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(SECRET_BYTES)
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, then fill in generated secrets."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.data_dir = settings.data_dir.resolve()
    if not settings.secret_key:
        settings.secret_key = _read_or_create_secret(settings.data_dir / "secret_key")
    if not settings.master_key:
        settings.master_key = _read_or_create_secret(settings.data_dir / "master_key")
    return settings
