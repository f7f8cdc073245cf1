"""The admins' settings area: team, channels and canned responses.

Agents get 403 on every page here. Each form calls the domain function the
API calls for the same change, then redirects with a notice saying what happened.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channels.base import OPTIONAL_CREDENTIALS, REQUIRED_CREDENTIALS
from inbox.accounts.invitations import INVITATION_TTL, invite, list_pending_invitations
from inbox.accounts.members import change_role, get_member, list_members, remove_member
from inbox.conversations.canned import (
    clean_shortcut,
    create_canned,
    delete_canned,
    list_canned,
    update_canned,
)
from inbox.errors import InvalidInput
from inbox.web.access import Viewer, member_name, notice_redirect, page, render_page, runtime_of
from inbox.web.channel_check import test_channel
from inbox.web.templating import redirect
from inbox.workspaces.channels import (
    create_channel,
    describe_channel,
    disconnect_channel,
    get_channel,
    list_channels,
)

CREDENTIAL_LABELS: dict[str, tuple[str, str, bool]] = {
    # key: (label, hint, secret)
    "account_sid": ("Account SID", "Starts with AC; on the Twilio console's home page.", False),
    "auth_token": ("Auth token", "Next to the Account SID; also used to check signatures.", True),
    "from_number": ("WhatsApp sender", "Like whatsapp:+15551234567.", False),
    "messaging_service_sid": ("Messaging service SID", "Starts with MG, if you use one.", False),
    "bot_token": ("Bot token", "From @BotFather, like 123456:ABC-def…", True),
    "page_id": ("Page id", "The numeric id of your Facebook Page.", False),
    "page_access_token": ("Page access token", "From the Meta app's Messenger settings.", True),
    "app_secret": ("App secret", "Meta app settings → Basic; used to check signatures.", True),
    "verify_token": (
        "Verify token", "Any text you choose; type the same in the Meta webhook form.", True
    ),
}
KIND_HELP = {
    "whatsapp": "through Twilio",
    "telegram": "a bot from @BotFather",
    "messenger": "a Facebook Page",
}
SETTINGS_PAGES = {"team", "channels", "canned"}


def credential_fields() -> list[tuple[str, list[dict[str, Any]]]]:
    """The connect forms' fields, from the adapters' own credential rules."""
    result = []
    for kind, required in REQUIRED_CREDENTIALS.items():
        fields = []
        for key, required_flag in [(k, True) for k in required] + [
            (k, False) for k in OPTIONAL_CREDENTIALS.get(kind, {})
        ]:
            label, hint, secret = CREDENTIAL_LABELS.get(key, (key, "", True))
            fields.append(
                {"key": key, "label": label, "hint": hint, "secret": secret,
                 "required": required_flag}
            )
        result.append((kind, fields))
    return result


def retention_url(request: Request) -> str | None:
    """The retention page, once the app has one."""
    for route in request.app.routes:
        if getattr(route, "path", None) == "/settings/retention":
            return "/settings/retention"
    return None


def settings_page(
    request: Request, viewer: Viewer, name: str, context: dict[str, Any]
) -> Response:
    values = {"page": name, "retention_url": retention_url(request), **context}
    return render_page(request, viewer, f"settings/{name}.html", values, section="settings")


@page(admin=True)
async def settings_home(request: Request, viewer: Viewer) -> Response:
    return redirect("/settings/team", status=307)


async def team_context(viewer: Viewer) -> dict[str, Any]:
    members = [
        {
            "user_id": str(m.user.id),
            "display_name": member_name(m.user.display_name, m.user.email),
            "email": m.user.email,
            "role": m.membership.role,
        }
        for m in await list_members(viewer.workspace)
    ]
    invitations = await list_pending_invitations(viewer.workspace)
    return {
        "members": members,
        "invitations": invitations,
        "invite_link": None,
        "invite_email": "",
        "invite_days": INVITATION_TTL.days,
    }


@page(admin=True)
async def team_page(request: Request, viewer: Viewer) -> Response:
    return settings_page(request, viewer, "team", await team_context(viewer))


@page(admin=True, fallback="/settings/team")
async def invite_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    sent = await invite(
        runtime_of(request).settings,
        viewer.workspace,
        viewer.principal.membership,
        str(form.get("email", "")),
        str(form.get("role", "agent")),
    )
    context = await team_context(viewer)
    # Shown once, in this answer only: the link is a secret that grants access.
    context.update(invite_link=sent.link, invite_email=sent.invitation.email)
    if sent.mailed:
        context["notice"] = "The invitation was also sent by e-mail."
    return settings_page(request, viewer, "team", context)


@page(admin=True, fallback="/settings/team")
async def role_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    member = await change_role(
        viewer.workspace, viewer.principal.membership, request.path_params["user_id"],
        str(form.get("role", "")),
    )
    name = member_name(member.user.display_name, member.user.email)
    return notice_redirect(request, "/settings/team", f"{name} is now {member.membership.role}.")


@page(admin=True, fallback="/settings/team")
async def remove_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    member = await get_member(viewer.workspace, request.path_params["user_id"])
    await remove_member(viewer.workspace, viewer.principal.membership, member.user.id)
    name = member_name(member.user.display_name, member.user.email)
    return notice_redirect(
        request, "/settings/team", f"{name} was removed and signed out of this workspace."
    )


@page(admin=True)
async def channels_page(request: Request, viewer: Viewer) -> Response:
    settings = runtime_of(request).settings
    channels = []
    for channel in await list_channels(viewer.workspace):
        setup = describe_channel(settings, channel)
        channels.append(
            {
                "id": str(channel.id),
                "kind": channel.kind,
                "name": channel.name,
                "status": channel.status,
                "webhook_url": setup.webhook_url,
                "status_callback_url": setup.status_callback_url,
            }
        )
    context = {
        "channels": channels,
        "credential_fields": credential_fields(),
        "kind_help": KIND_HELP,
        "open_kind": request.query_params.get("connect", ""),
    }
    return settings_page(request, viewer, "channels", context)


@page(admin=True, fallback="/settings/channels")
async def channel_create(request: Request, viewer: Viewer, form: FormData) -> Response:
    kind = str(form.get("kind", ""))
    credentials = {
        key[len("cred_"):]: str(value).strip()
        for key, value in form.items()
        if key.startswith("cred_") and str(value).strip()
    }
    setup = await create_channel(
        runtime_of(request).settings, viewer.workspace, kind, str(form.get("name", "")),
        credentials,
    )
    text = f"{setup.channel.name} is connected."
    if kind == "telegram":
        text += " Its webhook is registered with Telegram."
    else:
        text += " Paste its webhook URL at the provider (below)."
    return notice_redirect(request, f"/settings/channels#channel-{setup.channel.id}", text)


@page(admin=True, fallback="/settings/channels")
async def channel_test(request: Request, viewer: Viewer, form: FormData) -> Response:
    channel = await get_channel(viewer.workspace, request.path_params["id"])
    result = await test_channel(runtime_of(request).settings, channel)
    target = f"/settings/channels#channel-{channel.id}"
    if not result.ok:
        raise InvalidInput(f"{channel.name}: {result.summary()}")
    return notice_redirect(request, target, f"{channel.name}: {result.summary()}")


@page(admin=True, fallback="/settings/channels")
async def channel_delete(request: Request, viewer: Viewer, form: FormData) -> Response:
    channel = await get_channel(viewer.workspace, request.path_params["id"])
    if str(form.get("confirm", "")).strip() != channel.name:
        raise InvalidInput("type the channel's name exactly to delete it")
    await disconnect_channel(runtime_of(request).settings, viewer.workspace, str(channel.id))
    return notice_redirect(
        request, "/settings/channels",
        f"{channel.name} was disconnected; its conversations stay in the inbox.",
    )


@page(admin=True)
async def canned_page(request: Request, viewer: Viewer) -> Response:
    rows = await list_canned(viewer.workspace)
    canned = [{"id": str(c.id), "shortcut": c.shortcut, "text": c.text} for c in rows]
    return settings_page(request, viewer, "canned", {"canned": canned})


@page(admin=True, fallback="/settings/canned")
async def canned_create(request: Request, viewer: Viewer, form: FormData) -> Response:
    shortcut = clean_shortcut(str(form.get("shortcut", "")))
    text = str(form.get("text", ""))
    existing = next(
        (c for c in await list_canned(viewer.workspace) if c.shortcut == shortcut), None
    )
    if existing is not None:
        await update_canned(viewer.workspace, existing.id, None, text)
        return notice_redirect(request, "/settings/canned", f"/{shortcut} was replaced.")
    await create_canned(viewer.workspace, viewer.principal.user.id, shortcut, text)
    return notice_redirect(request, "/settings/canned", f"/{shortcut} is ready to use.")


@page(admin=True, fallback="/settings/canned")
async def canned_remove(request: Request, viewer: Viewer, form: FormData) -> Response:
    await delete_canned(viewer.workspace, request.path_params["id"])
    return notice_redirect(request, "/settings/canned", "The canned response was deleted.")


routes = [
    Route("/settings", settings_home, methods=["GET"]),
    Route("/settings/team", team_page, methods=["GET"]),
    Route("/settings/team/invite", invite_submit, methods=["POST"]),
    Route("/settings/team/{user_id}/role", role_submit, methods=["POST"]),
    Route("/settings/team/{user_id}/remove", remove_submit, methods=["POST"]),
    Route("/settings/channels", channels_page, methods=["GET"]),
    Route("/settings/channels", channel_create, methods=["POST"]),
    Route("/settings/channels/{id}/test", channel_test, methods=["POST"]),
    Route("/settings/channels/{id}/delete", channel_delete, methods=["POST"]),
    Route("/settings/canned", canned_page, methods=["GET"]),
    Route("/settings/canned", canned_create, methods=["POST"]),
    Route("/settings/canned/{id}/delete", canned_remove, methods=["POST"]),
]
