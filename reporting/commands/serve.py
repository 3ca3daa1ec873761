"""``serve``: the web portal (reporting.portal) under uvicorn; ``--set-password`` for a local account."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from reporting.commands._context import err, out, project

__all__ = ["register", "serve"]

LOOPBACK = {"localhost"}


def _loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option(help="Address to bind; behind a reverse proxy keep the default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    set_password: Annotated[
        str | None, typer.Option("--set-password", help="Set a local account's password (asked for), then stop.")
    ] = None,
    new_token: Annotated[
        str | None, typer.Option("--new-token", help="Make a JSON API token acting as this user, print it, then stop.")
    ] = None,
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Session cookie only over HTTPS; default: on unless bound to loopback without a proxy.",
        ),
    ] = None,
) -> None:
    """Serve the portal: packs, runs and deliveries, jobs, approvals, and a read-only JSON API."""
    from reporting.approval import load_users
    from reporting.errors import ReportingError

    root = project().root
    if set_password is not None:
        from reporting.portal.auth import set_password as store

        password = typer.prompt("Password (12+ characters)", hide_input=True, confirmation_prompt=True)
        store(root, set_password, password)
        out.print(f"password set for {set_password} (its argon2 hash is in {root / '.reporting' / 'passwords'})")
        return
    if new_token is not None:
        from reporting.portal.auth import new_api_token

        out.print(new_api_token(root, new_token))  # shown once: only its hash is kept
        return
    from reporting.portal.auth import can_sign_in

    users, _ = load_users(root)
    open_mode = not can_sign_in(root, users)
    if open_mode and not _loopback(host):
        raise ReportingError(
            f"no user of {root / 'users.yaml'} can sign in yet (no password set, no OIDC provider), so the portal "
            f"would be open to anyone who can reach {host}; it serves only on loopback (127.0.0.1) until then "
            "(reporting serve --set-password EMAIL)"
        )
    import uvicorn

    from reporting.portal.app import create_app

    app = create_app(project(), secure_cookies=not _loopback(host) if secure_cookies is None else secure_cookies)
    if open_mode:
        err.print(
            "[yellow]no user can sign in yet: the portal is open to anyone on this machine (loopback only); "
            "set a password with reporting serve --set-password EMAIL[/yellow]"
        )
    out.print(f"portal for {root} on http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info")


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command()(serve)
