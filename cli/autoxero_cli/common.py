"""What every command shares: the consoles (results on stdout, errors on stderr), one-line failures, the
target deployment (--stack, --region) and who is acting (for the ledger)."""

from __future__ import annotations

import getpass
import os
import socket
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # an error is one line, however long
Stack = Annotated[str | None, typer.Option("--stack", help="A deployed stack's name (default: the local sandbox)")]
By = Annotated[str | None, typer.Option("--by", help="Who is acting, for the ledger (default: your AWS identity "
                                                     "with --stack, else your login)")]
options: dict[str, Any] = {"region": None}  # set by the root --region option


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def target(stack: str | None) -> Any:
    from autoxero_cli.target import TargetError, resolve

    try:
        return resolve(stack, options["region"])
    except TargetError as err:
        raise fail(str(err)) from None


def who(stack: str | None, given: str | None = None) -> str:
    """The person acting: --by, else the AWS caller (a deployed stack), else login@host."""
    if given and given.strip():
        return given.strip()
    if stack:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(boto3.client("sts").get_caller_identity()["Arn"])
        except (BotoCoreError, ClientError):  # the identity is a courtesy for the ledger, never a failure
            return _login()
    return _login()


def _login() -> str:
    try:
        user = getpass.getuser()
    except OSError:
        user = os.environ.get("USER", "someone")
    return f"{user}@{socket.gethostname()}"
