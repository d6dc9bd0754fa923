"""The `gatehouse` command: serve, migrate, and the administration commands (admin_cli.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api import serve_worker
from api.admin_cli import clients, purge, users

if TYPE_CHECKING:
    from infrastructure.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Gatehouse token authentication service")
app.add_typer(users, name="users")
app.add_typer(clients, name="clients")
app.command("purge")(purge)


def settings_or_exit() -> Settings:
    from infrastructure.settings import Settings, describe_validation_error

    try:
        return Settings()
    except Exception as exc:
        typer.echo(f"gatehouse: invalid configuration: {describe_validation_error(exc)}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
    access_log: Annotated[bool, typer.Option(help="Log one line per request")] = True,
    forwarded_allow_ips: Annotated[str, typer.Option(
        help="Proxies whose X-Forwarded-For gives the client address (comma-separated IPs or networks, "
             "'*' for any): it decides whose address rate limits count and sessions show")] = "127.0.0.1",
) -> None:
    """Run the HTTP service with uvicorn."""
    if "GATEHOUSE_ISSUER" not in os.environ:
        shown = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host  # noqa: S104
        os.environ["GATEHOUSE_ISSUER"] = f"http://{shown}:{port}"
    settings = settings_or_exit()
    if not _is_loopback(host) and not settings.signing_key_configured and not settings.dev_signing_key:
        typer.echo(f"gatehouse: invalid configuration: serving on {host} (not loopback) needs a configured signing "
                   f"key: set GATEHOUSE_JWT_PRIVATE_KEY (GATEHOUSE_JWT_SECRET for HS256), or "
                   f"GATEHOUSE_DEV_SIGNING_KEY=true to use a development key anyway", err=True)
        raise typer.Exit(2)
    _prepare(settings)
    os.environ["GATEHOUSE_AUTO_MIGRATE"] = "false"  # done once here, not by every worker
    os.environ["GATEHOUSE_ACCESS_LOG"] = "1" if access_log else "0"
    if settings.metrics_token is not None:  # every worker's counts, added up at a scrape (infrastructure/metrics.py)
        from infrastructure.metrics import MULTIPROC_ENV, fresh_multiprocess_dir, prepare_multiprocess_dir

        if os.environ.get(MULTIPROC_ENV):
            prepare_multiprocess_dir(os.environ[MULTIPROC_ENV])
        else:
            os.environ[MULTIPROC_ENV] = fresh_multiprocess_dir()
    sys.stdout.flush()
    sys.stderr.flush()
    # uvicorn in this process's place (exec, api/serve_worker.py): the workers are then made of uvicorn and the
    # app only, without this command line's typer and settings machinery (15 MiB of every worker's memory when
    # uvicorn.run was called from here). ws="none": Gatehouse serves no websockets, and uvicorn's websocket
    # protocol costs 2.5 MiB (an upgrade request is answered as a plain request: 404).
    argv = serve_worker.command(uvicorn_options(host=host, port=port, workers=workers, reload=reload,
                                                log_level=settings.log_level, forwarded_allow_ips=forwarded_allow_ips))
    os.execv(argv[0], argv)  # noqa: S606 - this process becomes the server


def uvicorn_options(*, host: str, port: int, workers: int, reload: bool, log_level: str,
                    forwarded_allow_ips: str) -> dict[str, Any]:
    """uvicorn.run's options for `gatehouse serve` (the access log is Gatehouse's own, not uvicorn's)."""
    return {"host": host, "port": port, "workers": workers, "reload": reload, "access_log": False,
            "log_level": log_level, "proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips, "ws": "none"}


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Upgrade the database schema (to head by default)."""
    settings = settings_or_exit()
    _run_migrations(settings, revision)
    typer.echo(f"gatehouse: database at {revision}")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _prepare(settings: Settings) -> None:
    """Before workers start: apply migrations (SQLite default) and create the dev key once."""
    prepare_database(settings, say_if_not_migrated=True)


def prepare_database(settings: Settings, say_if_not_migrated: bool = False) -> None:
    """The keys loaded (the development key made once), and the embedded default's migrations applied."""
    from infrastructure.security.keys import KeyConfigurationError, load_keyring

    try:
        load_keyring(settings)
    except KeyConfigurationError as exc:
        typer.echo(f"gatehouse: invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    if settings.should_auto_migrate:
        _run_migrations(settings, "head")
    elif say_if_not_migrated:
        _say_if_not_migrated(settings)


def _say_if_not_migrated(settings: Settings) -> None:
    """Serve anyway (readiness says 503 until the database is migrated), but say why at once."""
    from infrastructure.db.engine import create_engine
    from infrastructure.db.probe import DatabaseCheck, DatabaseProbe, DatabaseState

    async def check() -> DatabaseCheck:
        engine = create_engine(settings)
        try:
            return await DatabaseProbe(engine, timeout_seconds=5.0).check()
        finally:
            await engine.dispose()

    found = asyncio.run(check())
    if found.state is DatabaseState.NOT_MIGRATED:
        typer.echo(f"gatehouse: not ready: {found.hint}", err=True)
    elif found.state is DatabaseState.UNAVAILABLE:
        typer.echo("gatehouse: the database does not answer yet; serving, not ready until it does", err=True)


def _run_migrations(settings: Settings, revision: str) -> None:
    from infrastructure.db.engine import create_engine
    from infrastructure.db.errors import is_outage
    from infrastructure.db.migrate import upgrade

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except Exception as exc:
        if is_outage(exc):
            typer.echo(f"gatehouse: cannot reach the database: {type(exc).__name__}", err=True)
            raise typer.Exit(1) from None
        raise


def main() -> None:
    sys.exit(app())
