"""`make bench`: every benchmark, printed as tables. Figures, not assertions; no log lines.

    python -m bench [--quick]     # --quick: the backfill with 1,000 invoices (the issue's figures are for 10,000)
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"  # before autoxero is imported (and inherited by the passes)

from rich.console import Console
from rich.table import Table

from bench import autotask_reads, backfill, coldstart, fastmoto, flows
from bench import console as console_pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="every benchmark, printed as tables")
    parser.add_argument("--quick", action="store_true", help="backfill 1,000 invoices instead of 10,000")
    args = parser.parse_args(argv)
    fastmoto.install()
    console = Console(width=150)
    load_before = backfill.load()
    table = Table(title="autoxero benchmarks (sandbox; Xero limits enforced: 60/min, 5 in flight)")
    for column in ("scenario", "records", "Xero calls", "Xero min", "x min", "naive Xero", "naive / ours",
                   "Autotask calls", "Autotask min", "naive Autotask"):
        table.add_column(column, justify="left" if column == "scenario" else "right", no_wrap=column == "scenario")
    notes: list[str] = []
    rows = []
    for scenario in (flows.invoices_benchmark, flows.warm_invoices_benchmark, flows.incremental_benchmark,
                     flows.idle_benchmark, flows.payments_benchmark, flows.purchase_orders_benchmark,
                     flows.reference_benchmark):
        produced, _ = flows.timed(scenario)
        rows += produced
    for row in rows:
        ratio = f"{row.xero_calls / row.xero_minimum:.2f}" if row.xero_minimum else "-"
        naive_ratio = f"{row.naive_xero / row.xero_calls:.0f}x" if row.naive_xero and row.xero_calls else "-"
        if row.note:
            notes.append(f"[{len(notes) + 1}] {row.name}: {row.note}")
        name = f"{row.name} [{len(notes)}]" if row.note else row.name
        table.add_row(name, f"{row.records:,}", str(row.xero_calls), str(row.xero_minimum), ratio,
                      str(row.naive_xero or "-"), naive_ratio, str(row.autotask_calls), str(row.autotask_minimum),
                      str(row.naive_autotask or "-"))
    reads = autotask_reads.run(5000)
    for read in reads["reads"]:
        table.add_row(f"Autotask read: {read['read']}", f"{read['records']:,}", "", "", "", "", "",
                      str(read["calls"]), str(reads["minimum_calls"]), "")
    table.caption = f"{load_before} at the start, {backfill.load()} at the end"
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)
    console.print("Minimums: Xero 50 records a write; Autotask 500 records a page (and, for invoices, one PATCH "
                  "per invoice to stamp webServiceDate: Autotask has no batch update).", highlight=False)
    load_before = backfill.load()
    cold = coldstart.measure()
    if "error" in cold:
        console.print(f"cold start: {cold['error']}")
    else:
        starts = Table(title=f"cold start from the built layer ({cold['layer_mb_unzipped_arm64']} MB unzipped, arm64); "
                             f"{load_before} at the start, {backfill.load()} at the end")
        for column in ("function", "import + init (ms, median of 5)", "its CPU time (ms)", "goal (ms)",
                       "RSS after init (MB)"):
            starts.add_column(column)
        for name, (ms, cpu_ms, rss, goal) in cold["handlers"].items():  # type: ignore[union-attr]
            starts.add_row(name, f"{ms:.0f}", f"{cpu_ms:.0f}", str(goal), f"{rss:.0f}")
        console.print(starts)
    console.rule("the console (bench/console.py)")
    console_pages.main([])
    return backfill.main(["--invoices", "1000"] if args.quick else [], console)


if __name__ == "__main__":
    sys.exit(main())
