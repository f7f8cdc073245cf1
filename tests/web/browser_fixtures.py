"""A real browser against a real server: ``inbox serve --demo`` as a subprocess.

The server runs on the embedded default (SQLite and an embedded Redis in a
temporary DATA_DIR, worker in process), exactly as a new user starts it, on a
free loopback port with PUBLIC_URL pointing at it. Chromium is Debian's
(/usr/bin/chromium) driven by Playwright's sync API; without it the browser
tests skip.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 60
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}
# Passed on to the server only when set (the rest of the environment is not).
SERVER_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


@dataclass
class DemoServer:
    url: str
    data_dir: Path
    log: Path

    @contextmanager
    def api_client(self, email: str, password: str) -> Iterator[httpx.Client]:
        """An API session (cookie + CSRF header) for the test's own calls."""
        with httpx.Client(base_url=self.url, timeout=10) as client:
            answer = client.post(
                "/api/v1/auth/login", json={"email": email, "password": password}
            )
            answer.raise_for_status()
            client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
            yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium")
    port = free_port()
    data_dir = tmp_path_factory.mktemp("demo-server")
    log = data_dir / "server.log"
    env = {key: os.environ[key] for key in SERVER_ENV_KEEP if key in os.environ}
    env.update(DATA_DIR=str(data_dir), PUBLIC_URL=f"http://127.0.0.1:{port}",
               LOG_LEVEL="WARNING")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "inbox.cli", "serve", "--demo", "--port", str(port)],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    server = DemoServer(f"http://127.0.0.1:{port}", data_dir, log)
    try:
        wait_until_ready(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(server: DemoServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the demo server stopped:\n" + server.log.read_text()[-3000:])
        try:
            if httpx.get(server.url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail("the demo server did not start in time:\n" + server.log.read_text()[-3000:])


@pytest.fixture(scope="module")
def browser(demo_server: DemoServer) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(browser, server: DemoServer, email: str, password: str, **context_options):
    """A new browser context signed in through the login form; returns its page."""
    context = browser.new_context(**{"viewport": DESKTOP, **context_options})
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/inbox")
    return page


def deliver_whatsapp(server: DemoServer, channel_id: str, number: str, text: str,
                     name: str) -> None:
    """An inbound WhatsApp message, signed like Twilio, over HTTP to the server."""
    from channels.fake import build_twilio_inbound, deliver_twilio
    from inbox.demo import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, WHATSAPP_NUMBER

    params = build_twilio_inbound(
        TWILIO_ACCOUNT_SID, WHATSAPP_NUMBER, number, text, profile_name=name
    )
    url = f"{server.url}/webhooks/twilio/{channel_id}"
    # Playwright's sync API owns this thread's event loop: deliver from another thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(
            asyncio.run, deliver_twilio(url, TWILIO_AUTH_TOKEN, params)
        ).result()
    assert answer.status_code < 300, answer.text
