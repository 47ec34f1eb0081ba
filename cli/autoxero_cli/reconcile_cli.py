"""`autoxero reconcile`: money first, then problems, then what is held, skipped or exported earlier; the same
reconciliation the console's page shows (autoxero.sync.reconcile), written to out/ as Markdown and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from autoxero_cli.common import Stack, console, target


def _money(value: object) -> str:
    return "" if value is None else f"{value:,.2f}"


def reconcile(stack: Stack = None,
              out: Annotated[Path, typer.Option(help="Where the report goes")] = Path("out")) -> None:
    """Autotask against Xero for finance: totals per currency, problems, held, skipped, bills and POs."""
    from autoxero.mapping.reconcile import ISSUE_TEXT
    from autoxero.sync.build import build_run
    from autoxero.sync.reconcile import reconcile as run_reconcile
    from autoxero_cli.report import write_report

    tgt = target(stack)
    rt = tgt.runtime()
    result = run_reconcile(build_run(rt, "reconcile", None, True))
    period = f"{result.period_start} to {result.period_end}" if result.period_start else "the period"
    money = Table(title=f"Money, invoices dated {period} (as of {result.generated_at:%Y-%m-%d %H:%M} {result.zone})"
                  if result.generated_at else "Money")
    for column in ("currency", "invoices", "invoiced in Autotask", "in Xero", "outstanding", "held", "skipped",
                   "exported before", "differing"):
        money.add_column(column, justify="left" if column == "currency" else "right")
    for currency, t in result.totals().items():
        money.add_row(currency, str(t.invoices), _money(t.invoiced_in_autotask), _money(t.in_xero),
                      _money(t.outstanding), _money(t.held), _money(t.skipped), _money(t.exported_before),
                      _money(t.differing))
    console.print(money)
    if result.problems:
        problems = Table(title=f"{len(result.problems)} problem(s)", style="red")
        for column in ("number", "customer", "date", "Autotask", "Xero", "paid AT / Xero", "what"):
            problems.add_column(column, justify="right" if column in ("Autotask", "Xero") else "left")
        for row in result.problems:
            paid = f"{'paid' if row.autotask_paid else 'unpaid'} / " + (
                "" if row.xero_paid is None else "paid" if row.xero_paid else "unpaid")
            problems.add_row(row.number, row.customer, str(row.date or ""),
                             f"{row.currency} {_money(row.autotask_total)}", _money(row.xero_total), paid,
                             ISSUE_TEXT.get(row.issue, "") + (f" ({row.note})" if row.note else ""))
        console.print(problems)
    console.print(f"{result.matched} invoice(s) agree; {len(result.problems)} problem(s); "
                  f"{len(result.explained) + len(result.held_purchases)} held with attention; "
                  f"{len(result.skipped)} skipped by a person; {len(result.purchases)} bill(s)/PO(s) checked.",
                  highlight=False)
    if result.exported_before:
        console.print("Exported before autoxero: " + ", ".join(r.number for r in result.exported_before),
                      highlight=False)
    path = write_report(result, {}, rt.state.attention.list(), out, customer=rt.config.customer)
    console.print(f"report: {path} and {path.with_suffix('.html')}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)
