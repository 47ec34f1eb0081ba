"""`autoxero invoke`: one function of template.yaml against the running sandbox, as `sam local invoke` would
run it, so what it does is in the same table, secrets and simulators the other commands see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from autoxero_cli.common import console, err_console, fail


def invoke(
    logical_id: Annotated[str, typer.Argument(help="The function's logical id in template.yaml")],
    event: Annotated[Path, typer.Option("--event", "-e", help="A JSON event file (see events/)")],
    built: Annotated[bool, typer.Option(help="Run the `sam build` artifacts in a fresh interpreter")] = False,
    with_sandbox: Annotated[bool, typer.Option(
        "--with-sandbox", help="Start a sandbox for this one call (as `sandbox serve` does) and stop it after, "
                               "when none is running: for CI")] = False,
) -> None:
    """Run one function from template.yaml on the running sandbox (start it with `autoxero sandbox serve`)."""
    from autoxero_cli import invoke as inv

    try:
        payload = json.loads(event.read_text())
    except FileNotFoundError:
        raise fail(f"event file {event} does not exist") from None
    except json.JSONDecodeError as err:
        raise fail(f"event file {event} is not valid JSON ({err.msg} at line {err.lineno})") from None
    try:
        inv.spec_for(logical_id)
        if with_sandbox:
            result = _in_a_sandbox_of_its_own(logical_id, payload, built)
        else:
            result = _on(_running_sandbox(), logical_id, payload, built)
    except typer.Exit:
        raise
    except inv.InvokeError as err:
        raise fail(str(err)) from None
    except Exception as err:  # the handler's own failure: one line, as Lambda reports an error (never a traceback)
        from autoxero.redaction import redact

        raise fail(f"{logical_id} failed: {type(err).__name__}: {redact(str(err))}") from None
    console.print_json(json.dumps(result, default=str))
    if isinstance(result, dict) and int(result.get("statusCode", 200)) >= 400:
        raise typer.Exit(1)


def _running_sandbox() -> dict[str, Any]:
    from autoxero_cli.target import TargetError, resolve

    try:
        local = resolve(None).local
    except TargetError:
        raise fail("the sandbox is not running: start it with `autoxero sandbox serve` in another terminal, or "
                   "pass --with-sandbox to start one for this call only") from None
    return dict(local or {})


def _on(local: dict[str, Any], logical_id: str, payload: Any, built: bool) -> Any:
    """Invoke against a running sandbox: its moto (the stack it created) and its simulators."""
    from autoxero_cli import invoke as inv
    from autoxero_cli.local_stack import LocalStack
    from autoxero_cli.localenv import stack_parameters

    stack = LocalStack(local["stack"], local["aws_endpoint"], stack_parameters()).create()  # finds what exists
    endpoints = local.get("endpoints") or {k: v for k, v in local.get("environment", {}).items()
                                           if k in SANDBOX_ENDPOINTS}
    if built:
        outcome = inv.invoke_built(logical_id, payload, stack, endpoints)
        err_console.print(f"init {outcome['init_ms']:.0f} ms from {outcome['layer']}", highlight=False)
        return outcome["result"]
    return inv.invoke(logical_id, payload, stack, endpoints)


SANDBOX_ENDPOINTS = ("AUTOXERO_AUTOTASK_ZONE_URL", "AUTOXERO_XERO_API_URL", "AUTOXERO_XERO_IDENTITY_URL",
                     "AUTOXERO_XERO_LOGIN_URL", "AUTOXERO_XERO_TOKEN_URL")


def _in_a_sandbox_of_its_own(logical_id: str, payload: Any, built: bool) -> Any:
    from autoxero_cli.local import LocalDeployment
    from autoxero_cli.localenv import local_aws
    from sandbox.server import Sandbox, load_fixture

    with local_aws() as endpoint, Sandbox.start(load_fixture()) as box:
        local = LocalDeployment.create(box, endpoint)
        return _on({"stack": local.stack.name, "aws_endpoint": endpoint, "endpoints": box.endpoints},
                   logical_id, payload, built)
