"""Every HTML route of the web inbox, and its static files (mounted by inbox.app)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from inbox.settings import Settings
from inbox.web import fragments, pages_auth, pages_contacts, pages_inbox, pages_settings
from inbox.web.templating import STATIC_DIR


def build_web_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        *pages_auth.routes,
        *pages_inbox.routes,
        *fragments.routes,
        *pages_contacts.routes,
        *pages_settings.routes,
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    if settings.demo:
        from inbox.web import simulator

        routes += simulator.routes
    return routes
