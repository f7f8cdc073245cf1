"""Screenshots of the inbox and the settings, light and dark, desktop and phone.

Every run takes them (so a page that fails to render fails here); with
``WRITE_SCREENSHOTS=1`` they are also written to docs/screenshots/ for the README.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from inbox.demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.web.browser_fixtures import (
    DESKTOP,
    PHONE,
    log_in,
)

pytestmark = pytest.mark.browser
DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MIN_PNG_BYTES = 5_000


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def open_conversation(page, server, text: str) -> None:
    page.goto(server.url + "/inbox")
    page.locator("#conv-list .conv-item", has_text=text).locator("a").click()
    page.wait_for_selector("#messages .msg")
    page.wait_for_timeout(300)  # local times and scroll position settle


def test_screenshots(browser, demo_server, tmp_path: Path) -> None:
    shots: dict[str, tuple[int, int]] = {}
    for scheme in ("light", "dark"):
        page = log_in(browser, demo_server, DEMO_EMAIL, DEMO_PASSWORD, color_scheme=scheme)
        open_conversation(page, demo_server, "Maria Lopez")
        page.screenshot(path=tmp_path / f"inbox-desktop-{scheme}.png")
        shots[f"inbox-desktop-{scheme}.png"] = (DESKTOP["width"], DESKTOP["height"])
        if scheme == "light":
            for name in ("team", "channels", "canned"):
                page.goto(f"{demo_server.url}/settings/{name}")
                page.screenshot(path=tmp_path / f"settings-{name}.png")
                shots[f"settings-{name}.png"] = (DESKTOP["width"], DESKTOP["height"])
            page.goto(demo_server.url + "/demo/simulator")
            page.wait_for_timeout(1200)
            page.screenshot(path=tmp_path / "demo-simulator.png")
            shots["demo-simulator.png"] = (DESKTOP["width"], DESKTOP["height"])
        state = page.context.storage_state()
        page.context.close()
        phone = browser.new_context(viewport=PHONE, color_scheme=scheme, storage_state=state)
        page = phone.new_page()
        page.goto(demo_server.url + "/inbox")
        page.screenshot(path=tmp_path / f"inbox-phone-list-{scheme}.png")
        open_conversation(page, demo_server, "Jonas Weber")
        page.screenshot(path=tmp_path / f"inbox-phone-thread-{scheme}.png")
        shots[f"inbox-phone-list-{scheme}.png"] = (PHONE["width"], PHONE["height"])
        shots[f"inbox-phone-thread-{scheme}.png"] = (PHONE["width"], PHONE["height"])
        phone.close()
    for name, size in shots.items():
        path = tmp_path / name
        assert png_size(path) == size
        assert path.stat().st_size > MIN_PNG_BYTES
    if os.environ.get("WRITE_SCREENSHOTS") == "1":
        DOCS_DIR.mkdir(parents=True, exist_ok=True)
        for name in shots:
            shutil.copyfile(tmp_path / name, DOCS_DIR / name)
