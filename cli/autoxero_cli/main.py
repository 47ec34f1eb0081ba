"""The autoxero command line (typer + rich): local sandbox by default, a deployed stack with --stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """autoxero: the Autotask PSA to Xero sync. Runs against the local sandbox unless --stack is given."""


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.command()
def invoke(
    logical_id: Annotated[str, typer.Argument(help="The function's logical id in template.yaml")],
    event: Annotated[Path, typer.Option("--event", "-e", help="A JSON event file (see events/)")],
    built: Annotated[bool, typer.Option(help="Run the `sam build` artifacts in a fresh interpreter")] = False,
    aws_endpoint: Annotated[str | None, typer.Option(help="An AWS endpoint (moto server); default: start one")] = None,
) -> None:
    """Run one function from template.yaml locally, as `sam local invoke` would (no Docker needed)."""
    from autoxero_cli import invoke as inv
    from autoxero_cli.local_stack import LocalStack
    from autoxero_cli.localenv import LOCAL_STACK_NAME, fake_aws_credentials, local_aws, seed_secrets, stack_parameters

    try:
        payload = json.loads(event.read_text())
    except FileNotFoundError:
        raise fail(f"event file {event} does not exist") from None
    except json.JSONDecodeError as err:
        raise fail(f"event file {event} is not valid JSON ({err.msg} at line {err.lineno})") from None

    def run(endpoint: str) -> None:
        fake_aws_credentials()
        stack = LocalStack(LOCAL_STACK_NAME, endpoint, stack_parameters()).create()
        seed_secrets(stack)
        if built:
            outcome = inv.invoke_built(logical_id, payload, stack)
            result = outcome["result"]
            console.print(f"init {outcome['init_ms']:.0f} ms from {outcome['layer']}")
        else:
            result = inv.invoke(logical_id, payload, stack)
        console.print_json(json.dumps(result, default=str))
        if isinstance(result, dict) and int(result.get("statusCode", 200)) >= 400:
            raise typer.Exit(1)

    try:
        if aws_endpoint:
            run(aws_endpoint)
        else:
            with local_aws() as endpoint:
                run(endpoint)
    except inv.InvokeError as err:
        raise fail(str(err)) from None


@app.command()
def demo() -> None:
    """Run every flow on the embedded sandbox, then reconcile (what `make demo` runs)."""
    from autoxero_cli import demo as demo_module

    raise typer.Exit(demo_module.main())


def main() -> None:
    app()
