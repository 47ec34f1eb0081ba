"""`autoxero attention list|explain|retry|resolve`: the records that need a person."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from autoxero_cli.common import Stack, console, fail, target


def attention_list(stack: Stack = None,
                   flow: Annotated[str | None, typer.Option(help="Only this flow")] = None) -> None:
    """Every record that needs a person."""
    rt = target(stack).runtime()
    items = rt.state.attention.list(flow)
    table = Table(title=f"{len(items)} record(s) need attention")
    for column in ("flow", "record", "what", "since", "times"):
        table.add_column(column)
    for item in items:
        table.add_row(item.flow, f"{item.record_id}\n{item.label}", item.message, item.first_seen,
                      str(item.occurrences))
    console.print(table)


def _item(rt: Any, flow: str, record: str) -> Any:
    """The attention item of a record given by its id or its invoice / purchase order number."""
    from autoxero_cli.records import UnknownRecord, resolve_record

    try:
        found = resolve_record(rt, flow, record)
    except UnknownRecord as err:
        raise fail(str(err)) from None
    item = rt.state.attention.get(flow, found.id)
    if item is None:
        raise fail(f"no attention item for {flow} record {record}; see `autoxero attention list`")
    return item


def attention_explain(flow: str, record: str, stack: Stack = None) -> None:
    """What is wrong with one record, what to change and where, and its history."""
    rt = target(stack).runtime()
    item = _item(rt, flow, record)
    console.print(f"[bold]{item.label or record}[/] ({flow})")
    console.print(f"[bold]What is wrong:[/] {item.message}")
    console.print(f"[bold]What to change:[/] {item.fix}")
    console.print(f"First seen {item.first_seen}, last {item.last_seen}, {item.occurrences} time(s). "
                  f"Code {item.code}.")
    for entry in rt.state.ledger.history(flow, item.record_id)[-10:]:
        console.print(f"  {entry.at} {entry.action}: {entry.outcome}")


def attention_retry(flow: Annotated[str | None, typer.Argument()] = None,
                    record: Annotated[str | None, typer.Argument()] = None,
                    all_items: Annotated[bool, typer.Option("--all", help="Retry every item")] = False,
                    stack: Stack = None) -> None:
    """After a fix: clear the item(s) and run the flow again; what is still wrong comes straight back."""
    from autoxero.sync.build import build_run, execute_run
    from autoxero.sync.flows import FLOWS

    rt = target(stack).runtime()
    items = rt.state.attention.list() if all_items else [_item(rt, flow or "", record or "")] if flow else []
    if not items:
        raise fail("say which item (FLOW RECORD) or --all")
    for item in items:
        kind = FLOWS[item.flow].kind if item.flow in FLOWS else None
        if kind:
            rt.state.ids.retry(kind, item.record_id)
        rt.state.attention.clear(item.flow, item.record_id)
    for flow_name in sorted({i.flow for i in items} & set(FLOWS)):
        chosen = FLOWS[flow_name]
        ids = [i.record_id for i in items if i.flow == flow_name]
        summary = execute_run(rt, build_run(rt, flow_name, None, False),
                              lambda run, f=chosen, ids=ids: f.retry(run, ids))
        console.print(f"{flow_name}: {summary.get('created', 0)} created, {summary.get('updated', 0)} updated, "
                      f"{summary.get('attention', 0)} still need attention")


def attention_resolve(flow: str, record: str, stack: Stack = None,
                      note: Annotated[str, typer.Option(help="Why it is resolved")] = "resolved by hand") -> None:
    """Mark an item handled by a person (kept in the ledger)."""
    rt = target(stack).runtime()
    item = _item(rt, flow, record)
    rt.state.attention.clear(flow, item.record_id)
    rt.state.ledger.append(flow, item.record_id, "attention resolved", "ok", {"note": note, "was": item.message})
    console.print(f"resolved: {item.label or record}")


def register(attention_app: typer.Typer) -> None:
    attention_app.command("list")(attention_list)
    attention_app.command("explain")(attention_explain)
    attention_app.command("retry")(attention_retry)
    attention_app.command("resolve")(attention_resolve)
