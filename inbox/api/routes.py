"""Every route of the REST API, in matching order (mounted by inbox.app.build_routes)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from inbox.api import (
    attachments,
    canned,
    channels,
    contacts,
    conversations,
    events,
    me,
    members,
    openapi,
    session,
)

routes: list[BaseRoute] = [
    *session.routes,
    *me.routes,
    *members.routes,
    *channels.routes,
    *conversations.routes,
    *attachments.routes,
    *contacts.routes,
    *canned.routes,
    *events.routes,
    *openapi.routes,
]
