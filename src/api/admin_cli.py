"""`gatehouse users …` and `gatehouse clients …`: administration from the command line, on the database the
service uses.

The operator's commands run the same use cases as /admin, as the actor `system` (contract v2: "Actions
taken with the CLI have `actor: "system"`"), with the same rules (`last_admin` included). Expected
failures are one line on standard error and exit 1; a bad configuration exits 2.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from api.container import Container
    from domain.service_clients import ServiceClient
    from domain.user import User

T = TypeVar("T")

users = typer.Typer(no_args_is_help=True, help="Find, create and administer accounts")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]


def _fail(reason: str) -> typer.Exit:
    typer.echo(f"gatehouse: {reason}", err=True)
    return typer.Exit(1)


def _run(work: Callable[[Container], Awaitable[T]]) -> T:
    """Run `work` with a container on the configured database; deliver what it recorded (a disable's notice,
    a verification mail) before exiting, as a request would after its response."""
    from api.cli import prepare_database, settings_or_exit
    from api.container import Container
    from domain.errors import DomainError
    from infrastructure.db.errors import is_outage
    from infrastructure.db.probe import DatabaseState

    settings = settings_or_exit()
    _quiet_service_logs()
    prepare_database(settings)

    async def run() -> T:
        container = Container(settings=settings)
        deliveries = container.deliveries()
        pending, token = deliveries.begin()
        try:
            found = await container.database_probe().check()  # say why, before any statement fails
            if found.state is DatabaseState.NOT_MIGRATED:
                raise _fail(found.hint)
            if found.state is DatabaseState.UNAVAILABLE:
                raise _fail("cannot reach the database")
            result = await work(container)
            deliveries.end(token)
            if pending.handoffs:  # a failure is one warning line; the service's sweep retries
                await container.deliver_notifications().execute(pending.handoffs)
            return result
        finally:
            await container.lifetime().aclose()

    try:
        return asyncio.run(run())
    except DomainError as error:
        raise _fail(error.detail) from None
    except Exception as exc:
        if is_outage(exc):
            raise _fail(f"cannot reach the database: {type(exc).__name__}") from None
        raise


def _check(kind: Any, value: str, what: str) -> None:
    """The rule /admin and registration apply to this input (their schema's type), said as they say it."""
    from pydantic import TypeAdapter, ValidationError

    from api.validation_messages import explain

    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise _fail(explain({**exc.errors()[0], "loc": ("query", what)}, None, "", "")) from None


def _quiet_service_logs() -> None:
    """The service's own log lines (meant for its log, not an operator's terminal) stay out of the command's
    one-line answers; its warnings (a development signing key made) still show, one line each."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gatehouse: warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    service = logging.getLogger("gatehouse")
    service.handlers[:] = [handler]
    service.propagate = False
    for chatty in ("gatehouse.db", "gatehouse.cache"):
        logging.getLogger(chatty).setLevel(logging.CRITICAL)  # a failure there is the command's own one line


def _admin_user(user: User) -> dict[str, Any]:
    from api.routers.admin import admin_user_out

    return admin_user_out(user).model_dump(mode="json")


def _show(user: User, as_json: bool, said: str) -> None:
    if as_json:
        typer.echo(json.dumps(_admin_user(user)))
    else:
        typer.echo(f"gatehouse: {said} {user.email} ({user.id}); roles: {' '.join(user.roles) or '-'}; "
                   f"{user.status.value}")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():  # a prompt without a terminal could echo: say how to pass it instead
        raise _fail("no terminal to ask for the password on: give it on standard input with --password-stdin")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users.command()
def create(
    email: Annotated[str, typer.Argument(help="The new account's address")],
    role: Annotated[list[str] | None, typer.Option("--role", help="A role to grant (repeat for more)")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard "
                                                 "input (one line) instead of a prompt")] = False,
    full_name: Annotated[str | None, typer.Option(help="The account's full name")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an account (the password policy of registration holds); e.g. the first admin: --role admin."""
    from api.schemas.auth import EmailText, FullName
    from application.administration import SYSTEM
    from application.dto import RegisterCommand

    _check(EmailText, email, "EMAIL")
    if full_name is not None:
        _check(FullName, full_name, "--full-name")
    password = _password(password_stdin)
    command = RegisterCommand(email, password, full_name, roles=tuple(role or ()))
    user = _run(lambda c: c.register_user().execute(command, acting=SYSTEM))
    _show(user, as_json, "created")


@users.command("list")
def list_users(
    email: Annotated[str | None, typer.Option(help="Only addresses containing this")] = None,
    role: Annotated[str | None, typer.Option(help="Only accounts holding this role")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every account (oldest first), as a table; with --json, one JSON array of admin-user objects."""
    from domain.administration import UserFilter

    which = UserFilter(email_contains=UserFilter.address_piece(email) if email else None, role=role)

    async def every_page(container: Container) -> list[User]:
        found: list[User] = []
        after = None
        while True:
            page, after = await container.list_users().execute(which, 100, after)
            found.extend(page)
            if after is None:
                return found

    found = _run(every_page)
    if as_json:
        typer.echo(json.dumps([_admin_user(u) for u in found]))
        return
    rows = [("ID", "EMAIL", "STATUS", "VERIFIED", "ROLES", "CREATED", "LAST LOGIN")]
    rows += [(str(u.id), u.email.value, u.status.value, "yes" if u.email_verified else "no", " ".join(u.roles) or "-",
              _when(u.created_at), _when(u.last_login_at)) for u in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _when(at: Any) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else "-"


@users.command("set-roles")
def set_roles(
    email: Annotated[str, typer.Argument(help="The account's address")],
    roles: Annotated[list[str] | None, typer.Argument(help="Its roles from now on (none: no roles)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Replace an account's roles (e.g. `admin`); the last active admin keeps `admin`."""
    from application.administration import SYSTEM

    async def work(container: Container) -> User:
        user = await container.get_user().by_email(email)
        return await container.update_user().execute(SYSTEM, user.id, roles=tuple(roles or ()))

    _show(_run(work), as_json, "roles set for")


@users.command()
def disable(
    email: Annotated[str, typer.Argument(help="The account's address")],
    reason: Annotated[str | None, typer.Option(help="Why (shown to admins only)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Disable an account: its sessions end, it cannot log in, and it is told."""
    from api.schemas.admin import Reason
    from application.administration import SYSTEM

    if reason is not None:
        _check(Reason, reason, "--reason")

    async def work(container: Container) -> User:
        user = await container.get_user().by_email(email)
        return await container.disable_user().execute(SYSTEM, user.id, reason)

    _show(_run(work), as_json, "disabled")


@users.command()
def enable(
    email: Annotated[str, typer.Argument(help="The account's address")],
    as_json: JsonOption = False,
) -> None:
    """Let a disabled account log in again (none of its old sessions comes back)."""
    from application.administration import SYSTEM

    async def work(container: Container) -> User:
        user = await container.get_user().by_email(email)
        return await container.enable_user().execute(SYSTEM, user.id)

    _show(_run(work), as_json, "enabled")


clients = typer.Typer(no_args_is_help=True, help="Service clients: the other services that may introspect tokens")


def _client_row(client: ServiceClient) -> dict[str, Any]:
    return {"client_id": client.client_id, "name": client.name,
            "created_at": client.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


@clients.command("create")
def create_client(
    name: Annotated[str, typer.Argument(help="What the client is (e.g. the service's name)")],
    as_json: JsonOption = False,
) -> None:
    """Make a client for POST /auth/introspect. Its secret is printed once: it is stored only as a digest."""
    made, secret = _run(lambda c: c.create_service_client().execute(name))
    if as_json:
        typer.echo(json.dumps({"client_id": made.client_id, "client_secret": secret}))
        return
    typer.echo(f"client_id: {made.client_id}\nclient_secret: {secret}")
    typer.echo("gatehouse: the secret is shown only now: keep it where the service reads its secrets", err=True)


@clients.command("list")
def list_clients(as_json: JsonOption = False) -> None:
    """Every client (never a secret), oldest first."""
    found = _run(lambda c: c.list_service_clients().execute())
    if as_json:
        typer.echo(json.dumps([_client_row(client) for client in found]))
        return
    rows = [("CLIENT ID", "NAME", "CREATED")] + [(r["client_id"], r["name"], r["created_at"])
                                                 for r in map(_client_row, found)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@clients.command("delete")
def delete_client(client_id: Annotated[str, typer.Argument(help="The client's id (from `clients list`)")]) -> None:
    """The client can no longer introspect (refused by every worker within a second)."""
    _run(lambda c: c.delete_service_client().execute(client_id))
    typer.echo(f"gatehouse: deleted client {client_id}")


def purge(as_json: JsonOption = False) -> None:
    """Run the retention job now (the service runs it every GATEHOUSE_RETENTION_INTERVAL_SECONDS): delete what
    the retention periods let go of, and say how much went. Where it met another worker purging, it says so
    and stops (that worker goes on)."""
    from domain.retention import Purgeable

    report = _run(lambda c: c.purge_expired_records().execute())
    deleted = {what.value: report.deleted.get(what, 0) for what in Purgeable}  # 0: none (or not reached)
    if as_json:
        typer.echo(json.dumps({**deleted, "yielded": report.yielded}))
    else:
        for what, count in deleted.items():
            typer.echo(f"{what}: {count} deleted")
    if report.yielded:
        typer.echo("gatehouse: another worker is purging right now: stopped here, it goes on", err=True)
