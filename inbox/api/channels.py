"""Channels: list (members), connect and disconnect (admins)."""

from __future__ import annotations

from inbox.api.routing import Access, Call, api_route
from inbox.api.schemas.common import ItemList
from inbox.api.schemas.workspace import ChannelCreatedOut, ChannelIn, ChannelOut
from inbox.models import Channel
from inbox.settings import Settings
from inbox.workspaces.channels import (
    create_channel,
    describe_channel,
    disconnect_channel,
    list_channels,
)

TAG = "channels"


def channel_out(settings: Settings, channel: Channel) -> ChannelOut:
    setup = describe_channel(settings, channel)
    return ChannelOut(
        id=channel.id,
        kind=channel.kind,
        name=channel.name,
        status=channel.status,
        webhook_url=setup.webhook_url,
        status_callback_url=setup.status_callback_url,
        created_at=channel.created_at,
    )


async def channels(call: Call) -> ItemList[ChannelOut]:
    rows = await list_channels(call.workspace)
    return ItemList(items=[channel_out(call.settings, channel) for channel in rows])


async def create(call: Call) -> ChannelCreatedOut:
    body: ChannelIn = call.body
    setup = await create_channel(call.settings, call.workspace, body.kind, body.name,
                                 body.credentials)
    out = channel_out(call.settings, setup.channel)
    return ChannelCreatedOut(**out.model_dump(), webhook_secret=setup.webhook_secret)


async def delete(call: Call) -> None:
    await disconnect_channel(call.settings, call.workspace, call.path("id"))


routes = [
    api_route("/channels", channels, method="GET", tag=TAG, response=ItemList[ChannelOut],
              summary="The workspace's channels"),
    api_route("/channels", create, method="POST", tag=TAG, access=Access.ADMIN, body=ChannelIn,
              response=ChannelCreatedOut, status=201,
              summary="Connect a channel; answers the webhook URL(s) to set at the provider"),
    api_route("/channels/{id}", delete, method="DELETE", tag=TAG, access=Access.ADMIN,
              status=204, summary="Disconnect a channel (marked deleted)"),
]
