"""The reconciliation report under out/: Markdown for a terminal or a ticket, and HTML rendered from the same
template as the console's reconciliation page (layers/shared/autoxero/console/templates/_reconciliation.html)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoxero.mapping.reconcile import Reconciliation, Row
from autoxero.state import AttentionItem


def _money(value: Any) -> str:
    return "" if value is None else f"{value:,.2f}"


def _row(rec: Reconciliation, row: Row) -> str:
    what = row.issue_text + (f" ({row.note})" if row.note else "")
    paid_x = "" if row.xero_paid is None else ("paid" if row.xero_paid else "unpaid")
    urls = (("Xero", rec.xero_url(row)), ("Autotask", rec.autotask_url(row)))
    links = " ".join(f"[{name}]({url})" for name, url in urls if url)
    cells = [row.number, row.customer, str(row.date or ""), row.currency, _money(row.autotask_total),
             _money(row.xero_total), (row.xero_status or "").lower(), "paid" if row.autotask_paid else "unpaid",
             paid_x, what, links]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


HEADER = ["| number | customer | date | currency | Autotask | Xero | Xero status | paid in Autotask | paid in Xero | "
          "what | open |", "|---|---|---|---|---:|---:|---|---|---|---|---|"]


def markdown(rec: Reconciliation, summaries: dict[str, dict[str, Any]], attention: list[AttentionItem]) -> str:
    period = f" for invoices dated {rec.period_start} to {rec.period_end}" if rec.period_start else ""
    stamp = f" — {rec.generated_at:%Y-%m-%d %H:%M} ({rec.zone})" if rec.generated_at else ""
    lines = [f"# autoxero reconciliation{stamp}", "",
             f"**{'Reconciled' if rec.ok else 'NOT reconciled'}**{period}: {rec.matched} invoices agree, "
             f"{len(rec.problems)} problems, {len(rec.explained)} held with attention, {len(rec.skipped)} skipped, "
             f"{rec.exported_elsewhere} exported before autoxero.", "", "## Money", "",
             "| currency | invoices | invoiced in Autotask | in Xero | outstanding in Xero | held with attention | "
             "skipped | exported before autoxero | differing |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for currency, t in rec.totals().items():
        lines.append(f"| {currency} | {t.invoices} | {_money(t.invoiced_in_autotask)} | {_money(t.in_xero)} | "
                     f"{_money(t.outstanding)} | {_money(t.held)} | {_money(t.skipped)} | "
                     f"{_money(t.exported_before)} | {_money(t.differing)} |")
    lines += ["", "## Problems", ""]
    lines += [*HEADER, *(_row(rec, r) for r in rec.problems)] if rec.problems else [
        "None: every invoice, bill and purchase order sent agrees in total and paid status."]
    if rec.explained or rec.held_purchases:
        held = rec.explained + rec.held_purchases
        lines += ["", "## Held with attention", "", *HEADER, *(_row(rec, r) for r in held)]
        texts = {(a.label or a.record_id): a for a in attention}
        lines += ["", "| record | what is wrong | what to change |", "|---|---|---|"]
        lines += [f"| {label} | {a.message} | {a.fix} |" for label, a in texts.items()]
    if rec.skipped:
        lines += ["", "## Skipped by a person", "", *HEADER, *(_row(rec, r) for r in rec.skipped)]
    if rec.exported_before:
        lines += ["", "## Exported before autoxero", "",
                  "By number: " + ", ".join(r.number for r in rec.exported_before) + "."]
    if rec.purchases:
        lines += ["", "## Bills and purchase orders", "", *HEADER, *(_row(rec, r) for r in rec.purchases)]
    if summaries:
        lines += ["", "## What each flow did", "",
                  "| flow | created | updated | unchanged | needs attention | Xero calls | Autotask calls |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {flow} | {s.get('created', 0)} | {s.get('updated', 0)} | "
                  f"{s.get('skipped', 0) + s.get('unchanged', 0)} | {s.get('attention', 0)} | "
                  f"{s.get('xero_calls', 0)} | {s.get('autotask_calls', 0)} |" for flow, s in summaries.items()]
    lines += ["", "## In agreement", "", *HEADER, *(_row(rec, r) for r in rec.agreements)]
    return "\n".join(lines) + "\n"


def to_html(rec: Reconciliation, customer: str = "") -> str:
    from autoxero.console.web import render

    return render("reconciliation_report.html", result=rec, customer=customer)


def write_report(rec: Reconciliation, summaries: dict[str, dict[str, Any]], attention: list[AttentionItem],
                 out: Path, customer: str = "") -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "reconciliation.md"
    path.write_text(markdown(rec, summaries, attention))
    (out / "reconciliation.html").write_text(to_html(rec, customer))
    return path
