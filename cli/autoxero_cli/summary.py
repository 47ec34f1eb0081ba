"""What a run did, as people read it: one counts table for `autoxero sync`, retries and the demo."""

from __future__ import annotations

from typing import Any

from rich.table import Table

# (column, summary keys added together); a column that is 0 in every row is left out.
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("created", ("created",)),
    ("updated", ("updated",)),
    ("unchanged", ("skipped", "unchanged")),
    ("waiting", ("waiting",)),
    ("needs attention", ("attention",)),
    ("skipped by a person", ("skipped_by_person",)),
    ("resolved", ("resolved",)),
    ("paid", ("paid",)),
    ("unpaid", ("unpaid",)),
    ("Xero calls", ("xero_calls",)),
    ("Autotask calls", ("autotask_calls",)),
)
ALWAYS = ("created", "updated", "needs attention")


def count(summary: dict[str, Any], keys: tuple[str, ...]) -> int:
    return sum(int(summary.get(k) or 0) for k in keys)


def counts_table(summaries: dict[str, dict[str, Any]], title: str) -> Table:
    shown = [(name, keys) for name, keys in COLUMNS
             if name in ALWAYS or any(count(s, keys) for s in summaries.values())]
    table = Table(title=title)
    table.add_column("flow")
    for name, _ in shown:
        table.add_column(name, justify="right")
    for flow, summary in summaries.items():
        table.add_row(flow.replace("_", " "), *(str(count(summary, keys)) for _, keys in shown))
    return table


def outcome_line(flow: str, summary: dict[str, Any]) -> str | None:
    """Why a run did not finish its work, or None when it did."""
    if summary.get("paused"):
        return f"{flow}: {summary.get('stopped')}"
    if summary.get("stopped"):
        return f"{flow} stopped: {summary['stopped']}"
    return None
