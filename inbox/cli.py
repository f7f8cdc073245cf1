"""The ``inbox`` command line. Every command is a thin shell around a domain
function; bad input is one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn

from inbox.errors import AppError
from inbox.settings import Settings, load_settings

EXIT_USAGE = 2


class CommandError(Exception):
    """A one-line message for the user; exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


async def with_database(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    """Migrate, connect the ORM, run ``work``, disconnect."""
    from inbox.database import apply_migrations, close_database, open_database

    await apply_migrations(settings)
    await open_database(settings)
    try:
        return await work()
    finally:
        await close_database()


# ------------------------------------------------------------------ commands
def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    from inbox.database import apply_migrations

    asyncio.run(apply_migrations(settings))
    print("database is up to date")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from inbox.app import create_app
    from inbox.database import apply_migrations
    from inbox.logs import configure_logging

    if args.demo:
        settings.demo = True
    configure_logging(settings.log_level)
    asyncio.run(apply_migrations(settings))
    if settings.demo:
        login = asyncio.run(with_database(settings, lambda: seed_demo_login(settings)))
        url = f"http://{args.host}:{args.port}/"
        print(f"Demo inbox: {url}\nLog in as {login[0]} with password {login[1]}", flush=True)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
    uvicorn.Server(config).run()


async def seed_demo_login(settings: Settings) -> tuple[str, str]:
    from inbox.demo import seed_demo

    demo = await seed_demo(settings)
    return demo.email, demo.password


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    email, password = asyncio.run(with_database(settings, lambda: seed_demo_login(settings)))
    print(f"Demo workspace ready. Log in as {email} with password {password}")


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    from inbox.database import apply_migrations
    from inbox.logs import configure_logging

    if args.check:
        if not asyncio.run(worker_is_healthy(settings)):
            raise CommandError("no healthy worker has reported recently")
        print("worker is healthy")
        return
    configure_logging(settings.log_level)
    asyncio.run(apply_migrations(settings))
    asyncio.run(run_worker(settings))


async def worker_is_healthy(settings: Settings) -> bool:
    """Whether a worker wrote its health-check key recently (arq refreshes it)."""
    from arq.constants import health_check_key_suffix

    from inbox.broker import QUEUE_NAME, connect_broker

    if settings.embedded_redis:
        raise CommandError("--check needs REDIS_URL (the embedded worker runs inside serve)")
    broker = await connect_broker(settings)
    try:
        return bool(await broker.redis.exists(QUEUE_NAME + health_check_key_suffix))
    finally:
        await broker.close()


async def run_worker(settings: Settings) -> None:
    from inbox.broker import connect_broker
    from workers.settings import build_worker

    broker = await connect_broker(settings)
    worker = build_worker(settings, broker, shared_runtime=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()
        await broker.close()


def cmd_create_workspace(settings: Settings, args: argparse.Namespace) -> None:
    from inbox.workspaces.service import create_workspace

    async def work() -> Any:
        return await create_workspace(
            args.name, args.admin_email, admin_password=args.admin_password, slug=args.slug
        )

    created = asyncio.run(with_database(settings, work))
    result = {"id": str(created.workspace.id), "slug": created.workspace.slug}
    if created.generated_password:
        result["admin_password"] = created.generated_password
    if args.json:
        print(json.dumps(result))
    else:
        print(f"workspace {result['slug']} created (id {result['id']})")
        if created.generated_password:
            print(f"admin password (shown once): {created.generated_password}")


def cmd_create_token(settings: Settings, args: argparse.Namespace) -> None:
    from inbox.accounts.tokens import create_api_token
    from inbox.workspaces.service import get_workspace_by_slug

    async def work() -> str:
        workspace = await get_workspace_by_slug(args.workspace)
        return await create_api_token(workspace, args.email, args.name or "")

    print(asyncio.run(with_database(settings, work)))


def cmd_create_channel(settings: Settings, args: argparse.Namespace) -> None:
    from inbox.workspaces.channels import create_channel
    from inbox.workspaces.service import get_workspace_by_slug

    try:
        credentials = json.loads(args.credentials)
    except json.JSONDecodeError:
        raise CommandError("--credentials must be a JSON object") from None
    if not isinstance(credentials, dict):
        raise CommandError("--credentials must be a JSON object")

    async def work() -> dict[str, Any]:
        workspace = await get_workspace_by_slug(args.workspace)
        setup = await create_channel(settings, workspace, args.kind, args.name, credentials)
        return setup.as_dict()

    result = asyncio.run(with_database(settings, work))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"channel {result['name']} created (id {result['id']})")
        for key in ("webhook_url", "status_callback_url", "webhook_secret"):
            if key in result:
                print(f"{key}: {result[key]}")


# ------------------------------------------------------------------ parser
def build_parser() -> Parser:
    parser = Parser(prog="inbox", description="A privacy-first team inbox.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    serve = commands.add_parser("serve", help="migrate, then run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed and open the demo workspace")
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="run the background worker")
    worker.add_argument("--check", action="store_true", help="exit 0 if a worker is healthy")
    worker.set_defaults(handler=cmd_worker)
    commands.add_parser("migrate", help="apply the database migrations").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser("demo", help="seed the demo workspace only").set_defaults(
        handler=cmd_demo
    )

    workspace = commands.add_parser("create-workspace", help="create a workspace and its owner")
    workspace.add_argument("--name", required=True)
    workspace.add_argument("--slug")
    workspace.add_argument("--admin-email", required=True)
    workspace.add_argument("--admin-password", help="generated and shown once when omitted")
    workspace.add_argument("--json", action="store_true")
    workspace.set_defaults(handler=cmd_create_workspace)

    token = commands.add_parser("create-token", help="create an API token for a member")
    token.add_argument("--workspace", required=True, metavar="SLUG")
    token.add_argument("--email", required=True)
    token.add_argument("--name")
    token.set_defaults(handler=cmd_create_token)

    channel = commands.add_parser("create-channel", help="connect a channel to a workspace")
    channel.add_argument("--workspace", required=True, metavar="SLUG")
    channel.add_argument("--kind", required=True, choices=["whatsapp", "telegram", "messenger"])
    channel.add_argument("--name", required=True)
    channel.add_argument("--credentials", required=True, metavar="JSON")
    channel.add_argument("--json", action="store_true")
    channel.set_defaults(handler=cmd_create_channel)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except Exception as exc:  # pydantic's message names the variable, not its value
        print(f"inbox: error: invalid settings ({type(exc).__name__})", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    try:
        args.handler(settings, args)
    except (AppError, CommandError) as exc:
        print(f"inbox: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:
        print(f"inbox: error: {type(exc).__name__}: {exc.strerror or 'system error'}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
