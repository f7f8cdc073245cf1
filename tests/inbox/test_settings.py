"""Settings: environment in, generated secrets kept once in DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox.settings import Settings, load_settings


def test_embedded_default_generates_secrets_once(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path)
    second = load_settings(data_dir=tmp_path)
    assert first.secret_key == second.secret_key
    assert first.master_key == second.master_key
    assert first.secret_key != first.master_key
    for name in ("secret_key", "master_key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert first.embedded_database
    assert first.embedded_redis
    assert first.worker_in_process


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://db/inbox")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/1")
    monkeypatch.setenv("PUBLIC_URL", "https://inbox.example.com")
    monkeypatch.setenv("MASTER_KEY", "from-env")
    settings = load_settings(data_dir=tmp_path)
    assert settings.master_key == "from-env"
    assert not (tmp_path / "master_key").exists()
    assert settings.public_https
    assert not settings.worker_in_process
    assert settings.public_link("/webhooks/x") == "https://inbox.example.com/webhooks/x"


def test_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="media_max_bytes"):
        Settings(data_dir=tmp_path, media_max_bytes=0)
