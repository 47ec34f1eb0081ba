"""The console's people (`users invite`) and the console on the sandbox (`autoxero console`)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from autoxero_cli.common import Stack, console, err_console, fail, target
from autoxero_cli.users import CONSOLE_PORT


def _pool(stack: str | None) -> tuple[Any, Any, str]:
    """The target stack, a Cognito client for it and its console's user pool id."""
    import boto3

    tgt = target(stack)
    if tgt.is_local:
        pool, idp = tgt.local.get("console_user_pool"), boto3.client("cognito-idp", region_name="us-east-1")
        if not pool:
            raise fail("this sandbox has no console: restart it with `autoxero sandbox serve` or `autoxero console`")
        return tgt, idp, pool
    pool = tgt.outputs.get("ConsoleUserPoolId")
    if not pool:
        raise fail(f"stack {tgt.name} has no console yet: deploy this version of autoxero to it first")
    return tgt, boto3.client("cognito-idp", region_name=tgt.region), pool


def users_invite(email: str,
                 role: Annotated[str, typer.Option(help="viewer (reads) or operator (reads, retries, skips, pauses "
                                                        "and edits mappings)")] = "viewer",
                 stack: Stack = None) -> None:
    """Invite a person to the console: Cognito e-mails them a temporary password (locally it is printed)."""
    from autoxero_cli.users import InviteError, invite

    tgt, idp, pool = _pool(stack)
    try:
        done = invite(idp, pool, email, role, local=tgt.is_local)
    except InviteError as err:
        raise fail(str(err)) from None
    verb = "invited" if done.created else "already invited; role set"
    console.print(f"{done.email}: {verb} as {done.role}.")
    if done.password:
        console.print(f"Sandbox password: {done.password} (sign in at {tgt.local['gateway_url']}/console/login)",
                      highlight=False)
    else:
        console.print("Cognito e-mails them a temporary password and the console's address.")


def users_list(stack: Stack = None) -> None:
    """Everyone who can sign in to the console, with their role."""
    from rich.table import Table

    from autoxero_cli.users import members

    _, idp, pool = _pool(stack)
    table = Table("e-mail", "role", "status")
    for member in members(idp, pool):
        status = ("disabled" if not member.enabled else
                  "invited, not signed in yet" if member.status == "FORCE_CHANGE_PASSWORD" else "active")
        table.add_row(member.email, member.role or "(none: refused)", status)
    console.print(table)


def users_remove(email: str, stack: Stack = None) -> None:
    """Someone leaves: no role, signed out everywhere, disabled (a page they already have open works until its
    sign-in expires, within the hour)."""
    from autoxero_cli.users import InviteError, remove

    _, idp, pool = _pool(stack)
    try:
        remove(idp, pool, email)
    except InviteError as err:
        raise fail(str(err)) from None
    console.print(f"{email.strip().lower()}: removed (no role, signed out, disabled).")


def console_serve(port: Annotated[int, typer.Option(help="The local gateway's port (0 picks a free one)")]
                  = CONSOLE_PORT) -> None:
    """Serve the console against the sandbox, with the demo's data and two demo users (Ctrl-C stops)."""
    import os

    from autoxero.observability import logger
    from autoxero_cli.demo import Demo
    from autoxero_cli.users import DEMO_PASSWORD, DEMO_USERS, invite

    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    logger.setLevel("WARNING")
    with Demo(err_console).world(port) as world:
        stack = world.local.stack
        idp = stack.client("cognito-idp")
        for email, role in DEMO_USERS:
            invite(idp, stack.physical["ConsoleUserPool"], email, role, local=True, password=DEMO_PASSWORD)
        console.print(f"Console: {world.gateway_url}/console/login", highlight=False)
        for email, role in DEMO_USERS:
            console.print(f"  {role}: {email} / {DEMO_PASSWORD}", highlight=False)
        console.print("Ctrl-C stops.")
        publish_and_wait(world.local, world.sandbox, world.gateway_url)


def publish_and_wait(local: Any, sandbox: Any, gateway_url: str, stop: Any = None) -> None:
    """Write where the local sandbox listens (the other commands read it), wait for Ctrl-C, then tidy up."""
    from autoxero_cli.target import forget_local, write_local

    write_local({"aws_endpoint": local.stack.endpoint_url, "autotask_url": sandbox.autotask_url,
                 "xero_url": sandbox.xero_url, "gateway_url": gateway_url, "stack": local.stack.name,
                 "endpoints": sandbox.endpoints,
                 "console_user_pool": local.stack.physical.get("ConsoleUserPool"),
                 "environment": local.environment()})
    console.file.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if stop is not None:
            stop()
        forget_local()


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(no_args_is_help=True, help="The console's people: invite them with a role, list "
                                                        "them, remove them when they leave.")
    users_app.command("invite")(users_invite)
    users_app.command("list")(users_list)
    users_app.command("remove")(users_remove)
    app.add_typer(users_app, name="users")
    app.command("console")(console_serve)
