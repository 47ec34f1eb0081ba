"""Pausing and resuming a stack, and marking records never to sync (`attention skip`/`unskip`)."""

from __future__ import annotations

from typing import Annotated

import typer

from autoxero_cli.common import By, Stack, console, fail, target, who
from autoxero_cli.records import UnknownRecord, resolve_record


def pause(reason: Annotated[str, typer.Option("--reason", help="Why, for whoever looks next")] = "paused by hand",
          stack: Stack = None, by: By = None) -> None:
    """Stop every flow from writing (a run while paused writes nothing and says so). Webhook events that
    arrive meanwhile are dropped; the schedules catch the changes up after `resume`."""
    rt = target(stack).runtime()
    status = rt.state.control.pause(who(stack, by), reason)
    console.print(f"Stack {status.describe()}")


def resume(stack: Stack = None, by: By = None) -> None:
    """Let the flows write again (refused until settings have been pushed)."""
    from autoxero.state import ResumeRefused

    rt = target(stack).runtime()
    try:
        status = rt.state.control.resume(who(stack, by))
    except ResumeRefused as err:
        raise fail(str(err)) from None
    console.print(f"Stack {status.describe()}; the next scheduled run (or `autoxero sync FLOW`) writes.")


def _runtime_and_record(stack: str | None, flow: str, record: str):
    """The stack's runtime and the record a person named by id or number; one clear line if it is unknown."""
    rt = target(stack).runtime()
    try:
        return rt, resolve_record(rt, flow, record)
    except UnknownRecord as err:
        raise fail(str(err)) from None


def skip(flow: Annotated[str, typer.Argument(help="contacts, invoices or purchase_orders")],
         record: Annotated[str, typer.Argument(help="The Autotask id, or an invoice / PO number (INV-10005)")],
         reason: Annotated[str, typer.Option("--reason", help="Why it must never sync (required)")],
         stack: Stack = None, by: By = None) -> None:
    """Mark a record never to sync (e.g. entered in Xero by hand); shown in status and reconcile."""
    rt, found = _runtime_and_record(stack, flow, record)
    if not reason.strip():
        raise fail("say why with --reason: whoever finds it later needs to know")
    item = rt.state.attention.get(found.flow, found.id)
    label = item.label if item and item.label else found.label
    rt.state.attention.skip(found.flow, found.id, reason, who(stack, by), label=label)
    console.print(f"{label} ({flow} {found.id}) will not sync; `autoxero attention unskip {flow} {record}` undoes it.")


def unskip(flow: Annotated[str, typer.Argument(help="contacts, invoices or purchase_orders")],
           record: Annotated[str, typer.Argument(help="The Autotask id, or an invoice / PO number")],
           stack: Stack = None, by: By = None) -> None:
    """Let a skipped record sync again on the next run."""
    rt, found = _runtime_and_record(stack, flow, record)
    if not rt.state.attention.unskip(found.flow, found.id, who(stack, by)):
        raise fail(f"{flow} record {record} was not skipped; `autoxero status` lists the skipped records")
    console.print(f"{found.label} ({flow} {found.id}) syncs again from the next run.")


def doctor(stack: Stack = None) -> None:
    """A read-only preflight against the real services (or the sandbox): one line each, with the fix.
    Exits 1 when anything needs fixing."""
    from autoxero_cli.doctor import run_doctor

    tgt = target(stack)
    console.print(f"[bold]autoxero doctor: {tgt.name}[/]", highlight=False)
    checks = run_doctor(tgt)
    for check in checks:
        console.print(check.line(), highlight=False, markup=False, soft_wrap=True)
    failed = [c for c in checks if c.ok is False]
    if failed:
        raise fail(f"{len(failed)} of {len(checks)} checks need fixing (✗ above)")
    console.print(f"{len(checks)} checks: nothing to fix" + (" (? = could not be checked)" if any(
        c.ok is None for c in checks) else ""))


def register(app: typer.Typer, attention_app: typer.Typer) -> None:
    app.command()(doctor)
    app.command()(pause)
    app.command()(resume)
    attention_app.command("skip")(skip)
    attention_app.command("unskip")(unskip)
