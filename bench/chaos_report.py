"""`make chaos` and `make chaos-quick`: the chaos scenario on many seeds, then on every mutant, as tables.

    python -m bench.chaos_report [--seeds 20] [--invoices 200] [--quick]

Per seed: the independent counts read from the simulators (bench/chaos_truth.py). Then each named mutant
(bench/chaos_mutants.py) runs the same scenario and must fail at least one truth check; the last lines say
`mutants caught: N of N`. Exit status 0 only if every seed passes, every mutant is caught and the token race
holds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from bench.chaos import SeedResult, scenario, token_race
from bench.chaos_mutants import MUTANTS


@dataclass(frozen=True)
class Job:
    seed: int
    invoices: int
    fault_rate: float
    crash_scale: float
    numbering: str | None = None
    mutant: str | None = None
    chaos_rounds: int = 20


def _run(job: Job) -> SeedResult:
    from autoxero.observability import logger

    logger.setLevel("CRITICAL")  # retries and give-ups are expected here: the table is the output
    return scenario(job.seed, job.invoices, fault_rate=job.fault_rate, crash_scale=job.crash_scale,
                    numbering=job.numbering, mutant=job.mutant, max_chaos_rounds=job.chaos_rounds)


def _mark(result: SeedResult, check: str) -> str:
    failed = result.failed(check)
    return "0" if not failed else f"[red]{failed}[/red]"


HEADERS = {"duplicates": "dup", "missing": "miss", "unknown": "unkn", "totals": "total", "contact": "cont",
           "stamped": "stamp", "paid_date": "paid", "bills": "bills", "pending": "pend*"}
OVERLAP = {"turned away by the lease": "lease", "both ran": "BOTH", "person's run died": "died",
           "no invoice to sync": "none"}


def _table(title: str, results: list[SeedResult]) -> Table:
    table = Table(title=title)
    for column in ("seed", "numbers", "mutant", "API calls", "faults", "crashes", "aborted", "overlap", "renum",
                   "rounds", *(HEADERS[c] for c in SeedResult.CHECKS), "result", "stale*", "s"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in results:
        rounds = f"{r.rounds} ({r.chaos_rounds}+{r.rounds - r.chaos_rounds})"
        overlap = ", ".join(OVERLAP.get(k, k) for k in r.overlaps) or "-"
        verdict = ("PASS" if r.ok else "[red]FAIL[/red]") if r.mutant is None else (
            "[green]caught[/green]" if r.caught_by else "[red]SURVIVED[/red]")
        table.add_row(str(r.seed), r.numbering, r.mutant or "-", f"{r.calls:,}", str(r.faults.total()),
                      str(r.crashes.total()), str(r.aborted.total()), overlap, str(r.renumbered),
                      rounds if r.settled else f"[red]not in {rounds}[/red]",
                      *(_mark(r, c) for c in SeedResult.CHECKS), verdict, str(len(r.stale_attention)),
                      f"{r.seconds:.0f}")
    return table


def main(argv: list[str] | None = None) -> int:
    from autoxero.observability import logger

    logger.setLevel("CRITICAL")  # the token race's refreshes and retries are expected: the tables are the output
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--mutant-invoices", type=int, default=200, help="tenant size for each mutant's run")
    parser.add_argument("--fault-rate", type=float, default=0.10)
    parser.add_argument("--crash-scale", type=float, default=1.0)
    parser.add_argument("--chaos-rounds", type=int, default=20, help="at most this many rounds with faults on")
    parser.add_argument("--mutants", default="all", help="comma-separated names, 'all' or 'none'")
    parser.add_argument("--quick", action="store_true",
                        help="2 seeds of 40 invoices and every mutant on 40 (random crashes 1.5 times as likely, "
                        "at most 6 rounds of chaos)")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run in parallel processes (each its own "
                        "sandbox and moto)")
    parser.add_argument("--verbose", action="store_true", help="list what each failed check found")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.invoices, args.mutant_invoices, args.crash_scale, args.chaos_rounds = 2, 40, 40, 1.5, 6
    names = list(MUTANTS) if args.mutants == "all" else [] if args.mutants == "none" else args.mutants.split(",")
    seeds = [Job(s, args.invoices, args.fault_rate, args.crash_scale, chaos_rounds=args.chaos_rounds)
             for s in range(args.first_seed, args.first_seed + args.seeds)]
    # Each mutant in Xero-numbering mode: there a second document is a real duplicate, not a refused number.
    mutants = [Job(100 + i, args.mutant_invoices, args.fault_rate, args.crash_scale, "xero", name, args.chaos_rounds)
               for i, name in enumerate(names)]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_run, seeds + mutants))
    race = token_race()
    console = Console(width=200)
    seed_results, mutant_results = results[:len(seeds)], results[len(seeds):]
    console.print(_table(f"autoxero chaos: {args.invoices:,} invoices a seed, {args.fault_rate:.0%} of requests "
                         "faulted on both APIs, random crashes; rerun until settled", seed_results))
    if mutant_results:
        console.print(_table(f"mutants: {args.mutant_invoices:,} invoices each; each must FAIL a truth check",
                             mutant_results))
    console.print("rounds: chaos + clean; overlap: how a person's sync during the scheduled run went (lease: turned "
                  "away by the run's lease; BOTH: both wrote); numbers: who numbers the Xero documents")
    console.print("checks (from the simulators): dup(licates), miss(ing), unkn(own documents), total, cont(act), "
                  "stamp(ed), paid(Date), bills; pend*: pending in our own id map (never catches a mutant); "
                  "stale*: attention items on invoices stamped in Autotask (not a check)")
    for r in results:
        if args.verbose or (r.mutant is None and not r.ok):
            for name, found in [*r.failures.items(), ("stale attention", r.stale_attention)]:
                if found:
                    console.print(f"seed {r.seed} {r.mutant or ''} {name}: {len(found)}: {found[:4]}")
    console.print(f"token race ({race.concurrency} invocations x {race.rounds}): refreshes at Xero per round "
                  f"{race.refreshes} (want 1 each), invalid_grant {race.invalid_grants}, failed invocations "
                  f"{len(race.errors)}" + (f": {race.errors[:3]}" if race.errors else ""))
    console.print(f"faults by kind: {dict(sorted(sum((r.faults for r in seed_results), Counter()).items()))}")
    console.print(f"crashes by point: {dict(sorted(sum((r.crashes for r in seed_results), Counter()).items()))}")
    for r in mutant_results:
        what = MUTANTS[r.mutant].what if r.mutant else ""
        found = (f"caught by {', '.join(f'{c} ({r.failed(c)})' for c in r.caught_by)}" if r.caught_by
                 else "SURVIVED")
        console.print(f"mutant {r.mutant}: {what}: {found}", highlight=False)
    caught = sum(1 for r in mutant_results if r.caught_by)
    if mutant_results:
        console.print(f"mutants caught: {caught} of {len(mutant_results)}", highlight=False)
    seeds_ok = sum(1 for r in seed_results if r.ok)
    console.print(f"seeds passed: {seeds_ok} of {len(seed_results)}", highlight=False)
    return 0 if race.ok and seeds_ok == len(seed_results) and caught == len(mutant_results) else 1


if __name__ == "__main__":
    sys.exit(main())
