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


def cmd_retention_run(settings: Settings, args: argparse.Namespace) -> None:
    """Apply the retention policies now (one workspace, or all); --dry-run counts only."""

    async def work() -> None:
        from inbox.broker import connect_broker
        from inbox.privacy.retention import iter_workspace_ids

        if args.workspace:
            from inbox.workspaces.service import get_workspace_by_slug

            workspaces = [await get_workspace_by_slug(args.workspace)]
        else:
            workspaces = [ws async for ws in iter_workspace_ids()]
        broker = None if args.dry_run else await connect_broker(settings)
        try:
            for workspace in workspaces:
                print(await retention_line(settings, broker, workspace, args.dry_run), flush=True)
        finally:
            if broker is not None:
                await broker.close()

    asyncio.run(with_database(settings, work))


async def retention_line(settings: Settings, broker: Any, workspace: Any, dry_run: bool) -> str:
    from inbox.models import Workspace
    from inbox.privacy.retention import preview_retention, run_retention

    if not isinstance(workspace, Workspace):
        workspace = await Workspace.get(id=workspace)
    if dry_run:
        preview = await preview_retention(workspace)
        status, counts = ("held" if preview["legal_hold"] else "would delete"), preview["counts"]
    else:
        result = await run_retention(settings, broker.redis, workspace)
        status, counts = result.status, result.deleted
    deleted = ", ".join(f"{key} {value}" for key, value in counts.items() if value)
    return f"{workspace.slug}: {status} ({deleted or 'nothing'})"


def cmd_syslog_export(settings: Settings, args: argparse.Namespace) -> None:
    """System-log rows of a period as NDJSON, for a lawful request."""
    from inbox.accounts.tokens import normalize_email
    from inbox.privacy.system_log import export_system_logs, parse_ip, parse_period

    since, until = parse_period(args.since, args.until)  # bad input: exit 2, no database
    ip = parse_ip(args.ip) if args.ip is not None else None
    email = normalize_email(args.email) if args.email is not None else None

    async def work() -> None:
        async for line in export_system_logs(since, until, ip=ip, email=email):
            sys.stdout.write(line)
        sys.stdout.flush()

    asyncio.run(with_database(settings, work))


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

    retention = commands.add_parser("retention", help="apply the retention policies")
    retention_commands = retention.add_subparsers(
        dest="retention_command", required=True, parser_class=Parser
    )
    retention_run = retention_commands.add_parser("run", help="delete what has expired now")
    retention_run.add_argument("--workspace", metavar="SLUG", help="one workspace (default: all)")
    retention_run.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    retention_run.set_defaults(handler=cmd_retention_run)

    syslog = commands.add_parser("syslog", help="connection data (system log)")
    syslog_commands = syslog.add_subparsers(
        dest="syslog_command", required=True, parser_class=Parser
    )
    syslog_export = syslog_commands.add_parser(
        "export", help="print a period's rows as NDJSON (lawful requests)"
    )
    syslog_export.add_argument("--since", required=True, metavar="DATE")
    syslog_export.add_argument("--until", required=True, metavar="DATE")
    syslog_export.add_argument("--ip", metavar="IP")
    syslog_export.add_argument("--email", metavar="EMAIL")
    syslog_export.set_defaults(handler=cmd_syslog_export)
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
