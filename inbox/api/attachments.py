"""Downloading an attachment: only through the API, only within the caller's workspace."""

from __future__ import annotations

from starlette.responses import Response

from inbox.api.files import stored_file_response
from inbox.api.routing import Call, api_route
from inbox.conversations.queries import get_attachment
from inbox.errors import NotFound


async def download(call: Call) -> Response:
    attachment = await get_attachment(call.workspace, call.path("id"))
    if not attachment.storage_key:
        raise NotFound("the file has not been downloaded yet", code="not_stored")
    return stored_file_response(
        call.settings, attachment.storage_key, attachment.media_type, attachment.filename
    )


routes = [
    api_route("/attachments/{id}", download, method="GET", tag="conversations",
              stream="application/octet-stream", summary="Download an attachment's file"),
]
