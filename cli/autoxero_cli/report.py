"""The reconciliation report, as Markdown and as HTML, under out/."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from autoxero.mapping.reconcile import Reconciliation, Row
from autoxero.state import AttentionItem

ISSUE_TEXT = {"missing_in_xero": "missing in Xero", "total_differs": "totals differ",
              "paid_differs": "paid status differs", "not_linked": "in Xero, not linked"}


def _row(row: Row) -> list[str]:
    return [row.number, f"{row.autotask_total:.2f}", "" if row.xero_total is None else f"{row.xero_total:.2f}",
            "paid" if row.autotask_paid else "", (row.xero_status or "").lower(),
            ISSUE_TEXT.get(row.issue or "", "agrees") + (f" ({row.note})" if row.note else "")]


def markdown(rec: Reconciliation, summaries: dict[str, dict[str, Any]], attention: list[AttentionItem]) -> str:
    lines = [f"# autoxero reconciliation — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", "",
             f"**{'Reconciled' if rec.ok else 'NOT reconciled'}**: {rec.matched} invoices agree, "
             f"{len(rec.problems)} unexplained differences, {len(rec.explained)} waiting on a person, "
             f"{rec.exported_elsewhere} exported before autoxero.", "", "## What each flow did", "",
             "| flow | created | updated | skipped | needs attention | Xero calls | Autotask calls |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for flow, s in summaries.items():
        lines.append(f"| {flow} | {s.get('created', 0)} | {s.get('updated', 0)} | "
                     f"{s.get('skipped', 0) + s.get('unchanged', 0)} | {s.get('attention', 0)} | "
                     f"{s.get('xero_calls', 0)} | {s.get('autotask_calls', 0)} |")
    lines += ["", "## Differences", ""]
    if rec.problems:
        lines += ["| invoice | Autotask total | Xero total | Autotask | Xero | issue |", "|---|---:|---:|---|---|---|"]
        lines += ["| " + " | ".join(_row(r)) + " |" for r in rec.problems]
    else:
        lines.append("None: every synced invoice has the same total and paid status in both systems.")
    lines += ["", "## Needs attention", ""]
    if attention:
        lines += ["| flow | record | what is wrong | what to change |", "|---|---|---|---|"]
        lines += [f"| {a.flow} | {a.label or a.record_id} | {a.message} | {a.fix} |" for a in attention]
    else:
        lines.append("Nothing.")
    lines += ["", "## Invoices checked", "", "| invoice | Autotask total | Xero total | Autotask | Xero | result |",
              "|---|---:|---:|---|---|---|"]
    lines += ["| " + " | ".join(_row(r)) + " |" for r in rec.rows]
    return "\n".join(lines) + "\n"


def to_html(text: str) -> str:
    """A small Markdown subset (headings, paragraphs, tables) to a standalone page."""
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>autoxero reconciliation</title>",
           "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:"
           "collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
           "th{background:#f3f4f6}</style></head><body>"]
    table: list[str] = []

    def flush() -> None:
        if table:
            rows = [r.strip("|").split(" | ") for r in table if not set(r) <= set("|-: ")]
            out.append("<table><tr>" + "".join(f"<th>{html.escape(c.strip())}</th>" for c in rows[0]) + "</tr>")
            out.extend("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in r) + "</tr>" for r in rows[1:])
            out.append("</table>")
            table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            out.append("<p>" + html.escape(line).replace("**", "") + "</p>")
    flush()
    out.append("</body></html>")
    return "\n".join(out)


def write_report(rec: Reconciliation, summaries: dict[str, dict[str, Any]], attention: list[AttentionItem],
                 out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(rec, summaries, attention)
    path = out / "reconciliation.md"
    path.write_text(text)
    (out / "reconciliation.html").write_text(to_html(text))
    return path
