"""Jinja2 for the HTML pages: one environment, autoescape on for every template.

``render`` is the only way a page answers with HTML, so every HTML response
carries the same security headers (a Content-Security-Policy that forbids inline
script and style, no sniffing, no framing by other sites).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from inbox.web.formatting import (
    channel_label,
    format_age,
    format_clock,
    format_day,
    format_list_time,
    format_size,
    initials,
    linkify,
)
from inbox.web.icons import render_icon

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    # Pages hold conversations: never keep them in a shared cache.
    "Cache-Control": "no-store",
}


@cache
def static_version(name: str) -> str:
    """A short content hash, so a changed file is fetched again despite caching."""
    path = STATIC_DIR / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


def iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


@cache
def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        linkify=linkify,
        size=format_size,
        initials=initials,
        channel_label=channel_label,
        age=format_age,
        clock=format_clock,
        day=format_day,
        list_time=format_list_time,
        iso=iso,
    )
    environment.globals.update(icon=render_icon, static_url=static_url)
    return environment


def render_fragment(name: str, **context: Any) -> Markup:
    """A template rendered to escaped-safe markup (for fragments inside pages)."""
    return Markup(build_environment().get_template(name).render(**context))  # noqa: S704


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render template ``name`` as a full HTML response with the security headers."""
    values: dict[str, Any] = {"request": request, "path": request.url.path}
    values.update(context or {})
    body = build_environment().get_template(name).render(**values)
    response = HTMLResponse(body, status_code=status)
    apply_security_headers(response.headers)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def redirect(url: str, *, status: int = 303) -> RedirectResponse:
    """After a form POST: 303 so the browser follows with a GET."""
    response = RedirectResponse(url, status_code=status)
    apply_security_headers(response.headers)
    return response


def apply_security_headers(headers: Any) -> None:
    for key, value in SECURITY_HEADERS.items():
        headers[key] = value
