"""Every HTML route of the web inbox, and its static files (mounted by inbox.app)."""

from __future__ import annotations

import os
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from inbox.settings import Settings
from inbox.web import (
    fragments,
    pages_auth,
    pages_contacts,
    pages_inbox,
    pages_retention,
    pages_settings,
)
from inbox.web.templating import STATIC_DIR

# The pages name their files with a content hash (?v=...); the script's modules
# import each other by plain relative URLs, so browsers must check those again
# (a cheap 304 thanks to the ETag) or a new entry could run with old modules.
UNVERSIONED_CACHE_CONTROL = "no-cache"


class StaticAssets(StaticFiles):
    """The app's own CSS, scripts and icons."""

    def file_response(
        self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if b"v=" not in scope.get("query_string", b""):
            response.headers["Cache-Control"] = UNVERSIONED_CACHE_CONTROL
        return response


def build_web_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        *pages_auth.routes,
        *pages_inbox.routes,
        *fragments.routes,
        *pages_contacts.routes,
        *pages_settings.routes,
        *pages_retention.routes,
        Mount("/static", app=StaticAssets(directory=STATIC_DIR), name="static"),
    ]
    if settings.demo:
        from inbox.web import simulator

        routes += simulator.routes
    return routes
