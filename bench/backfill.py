"""Backfill: 10,000 invoices (1-3 lines each, 100 customers) through the invoices flow under the APIs'
enforced limits, timed on the sandbox clock, and the memory the sync takes.

Each invoices run is a Lambda invocation with SyncInvoicesFunction's 900 s timeout measured on the sandbox
clock (the flow stops 90 s before it with its state saved); when a run stops early, the next one starts at
the next tick of the 15-minute schedule. Runs repeat until no invoice is left unstamped. Nothing sleeps:
waits advance the sandbox clock.

Time. Elapsed = sandbox clock after - before, contacts run included. The sandbox clock is the wall clock
plus every wait the clients made (Retry-After, low-headroom pauses, back-off) and every schedule tick skipped
to: waits advance it instead of sleeping, and the real time the sync, the simulators and moto spend
computing counts as well (so a loaded machine makes a pass look slower than it is).

Two passes, each in a freshly spawned process that holds the sync alone (the simulators and moto, in server
mode, live in another process and are reached over loopback HTTP, as AWS and the APIs would be):
1. Xero-bound: Autotask's threshold and autoxero's pacing lifted, so that Xero's limits are the ones that
   bind. Theoretical minimum = (ceil(xero_calls / 60) - 1) minutes: Xero allows 60 calls a minute, the
   sync makes one call at a time (5 in flight never binds), and a last minute's calls may all go at its start.
2. Paced: Autotask's 10,000 requests an hour kept, other integrations using 30 % of it, default settings:
   autoxero keeps the database under 50 % of the threshold (others included) and itself under 2,000
   requests an hour. Printed: its Autotask requests in each hour, the peak share of the threshold (the
   simulator's count of everyone's requests at each admission), requests Autotask refused, elapsed time.

Memory: each pass's `rss_peak_mb` is VmHWM (/proc/self/status, the kernel's high-water mark of the
process's resident memory; getrusage's ru_maxrss is inherited across fork and exec) of its process, which
holds the sync alone: the figure to size the Lambda. Optional:
`--trace` (a third sync-alone pass with tracemalloc on, for the Python allocations' peak and where they are;
tracing costs memory itself, so its RSS is not the sync's) and `--one-process` (the older method: one process
holding the sync, both simulators and moto).

    python -m bench.backfill [--invoices 10000] [--no-paced] [--trace] [--one-process]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

import httpx

from bench.sandbox_time import reference_cache_on
from sandbox.fixtures.builder import MANAGED, STANDARD, SUPPORT, Tenant

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

LAMBDA_TIMEOUT = 900  # SyncInvoicesFunction's Timeout in template.yaml
SCHEDULE = 15 * 60  # SyncRateMinutes default
XERO_MINUTE = 60
MAX_RUNS = 80  # paced at 2,000 requests an hour, 10,000 invoices take ~6 h: ~25 ticks
MB = 1024 * 1024


def backfill_tenant(invoices: int, companies: int = 100, seed: int = 0) -> Tenant:
    rng = random.Random(seed)
    data = Tenant()
    for c in range(companies):
        data.company(100_000 + c, f"Backfill Customer {c:04d} Ltd")
    for i in range(invoices):
        lines = [(rng.choice((1, 2, 3, 0.5)), Decimal(rng.randint(1000, 50_000)) / 100, STANDARD,
                  rng.choice((SUPPORT, MANAGED))) for _ in range(rng.randint(1, 3))]
        data.invoice(200_000 + i, 100_000 + i % companies, f"BF-{i:06d}", lines)
    return data


@dataclass
class LambdaContext:
    """What build_run reads from a Lambda context: the time left, here on the sandbox clock."""

    now: Callable[[], float]
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - self.now()) * 1000)


class Waits:
    """The clients' sleep: advances the sandbox clock and keeps the total."""

    def __init__(self, advance: Callable[[float], None] | None = None) -> None:
        self.advance = advance
        self.seconds = 0.0
        self.count = 0

    def __call__(self, seconds: float) -> None:
        if self.advance is None:
            raise RuntimeError("Waits used before it was given the sandbox clock")
        self.seconds += seconds
        self.count += 1
        self.advance(seconds)


def _rss_mb() -> float:
    """This process's peak resident memory: VmHWM, the high-water mark of its own address space. Not
    getrusage's ru_maxrss: Linux carries that across fork and exec, so a process spawned by a large parent
    reports the parent's size (every spawned pass read 291 MB under `make bench`)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:  # Linux: pages; the second field is resident
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def drive(h: Any, unstamped: Callable[[], int], invoices: int) -> dict[str, Any]:
    """The backfill itself: contacts once, then invoices runs (each a Lambda on the sandbox clock) until
    every invoice is stamped. `h` is a chaos.Harness or a RemoteHarness."""
    from autoxero.sync.contacts import run_contacts
    from autoxero.sync.invoices import run_invoices

    started, wall = h.clock.time(), time.perf_counter()
    summaries = [h.run("contacts", run_contacts)]
    runs: list[dict[str, Any]] = []
    while len(runs) < MAX_RUNS:
        begun = h.clock.time()
        summary = h.run("invoices", run_invoices, LambdaContext(h.clock.time, begun + LAMBDA_TIMEOUT))
        left = unstamped()
        runs.append({"at": round(begun - started), "created": summary.get("created", 0),
                     "xero_calls": summary["xero_calls"],
                     "autotask_calls": summary["autotask_calls"], "stopped": summary.get("stopped"),
                     "sandbox_seconds": round(h.clock.time() - begun, 1), "unstamped_after": left,
                     "rss_mb": round(_current_rss_mb(), 1), "peak_rss_mb": round(_rss_mb(), 1)})
        summaries.append(summary)
        if left == 0:
            break
        ticks = math.ceil((h.clock.time() - begun) / SCHEDULE) or 1
        h.clock.advance(begun + ticks * SCHEDULE - h.clock.time())  # the schedule's next tick
    elapsed = h.clock.time() - started
    xero_calls = sum(s["xero_calls"] for s in summaries)
    minimum = math.ceil(xero_calls / XERO_MINUTE) * 60
    tight = max(1, (math.ceil(xero_calls / XERO_MINUTE) - 1) * 60)  # the last window's calls made at its start
    return {"invoices": invoices, "runs": len(runs), "unstamped": runs[-1]["unstamped_after"],
            "created": sum(s.get("created", 0) for s in summaries[1:]), "xero_calls": xero_calls,
            "xero_calls_ideal": math.ceil(invoices / 50),
            "autotask_calls": sum(s["autotask_calls"] for s in summaries),
            "sandbox_seconds": round(elapsed, 1), "minimum_seconds": minimum,
            "ratio": round(elapsed / minimum, 3), "tight_minimum_seconds": tight,
            "tight_ratio": round(elapsed / tight, 3), "wall_seconds": round(time.perf_counter() - wall, 1),
            "per_run": runs}


# ----------------------------------------------------------------------------- the passes


LIFTED = {"autotask": {"max_database_share": "0.95", "hourly_budget": 1_000_000}}  # Xero's limits bind
OTHERS_SHARE = 0.30  # other integrations' use of the database's threshold in the paced pass
THRESHOLD = 10_000  # Autotask's default externalRequestThreshold
XERO_BOUND = {"hourly_limit": 1_000_000, "other_integrations_per_hour": 0, "reset_counts": True}
PACED = {"hourly_limit": THRESHOLD, "other_integrations_per_hour": int(THRESHOLD * OTHERS_SHARE),
         "reset_counts": True}


def per_hour(runs: list[dict[str, Any]]) -> list[int]:
    """autoxero's Autotask requests in each hour of the backfill (by run start, on the sandbox clock)."""
    hours: dict[int, int] = {}
    for one in runs:
        hours[one["at"] // 3600] = hours.get(one["at"] // 3600, 0) + one["autotask_calls"]
    return [hours.get(h, 0) for h in range(max(hours, default=-1) + 1)]


def _serve(conn: Connection, invoices: int) -> None:
    """The other process: both simulators and moto (server mode), until told to stop."""
    import logging

    from autoxero_cli.localenv import local_aws
    from bench import fastmoto
    from sandbox.server import Sandbox

    fastmoto.install()
    data = backfill_tenant(invoices).data
    sandbox = Sandbox.start(data)
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    try:
        while True:
            with local_aws() as aws:  # a fresh moto and a fresh tenant for each pass
                conn.send({"aws": aws, "endpoints": sandbox.endpoints, "xero": sandbox.xero_url,
                           "autotask": sandbox.autotask_url, "tenant_id": sandbox.xero.tenant_id,
                           "token": sandbox.xero.issue_token_set(scope="offline_access accounting.invoices "
                                                                 "accounting.payments accounting.contacts "
                                                                 "accounting.settings"),
                           "now": sandbox.clock.time()})
                if conn.recv() != "reset":
                    return
            sandbox.load(data)
    finally:
        sandbox.stop()


class RemoteClock:
    """The sandbox clock of the other process: wall clock plus the offset this process gave it."""

    def __init__(self, control: httpx.Client, offset: float) -> None:
        self._control = control
        self._offset = offset

    def time(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds
        self._control.post("/_sandbox/clock", json={"advance": seconds}).raise_for_status()


@dataclass
class _Endpoints:
    endpoints: dict[str, str]


class RemoteHarness:
    """chaos.Harness's interface over a sandbox and moto that live in another process."""

    def __init__(self, info: dict[str, Any], settings: dict[str, Any] | None, limits: dict[str, Any]) -> None:
        from autoxero.autotask.limiter import LocalLimiter
        from autoxero.secrets import SecretStore
        from autoxero.settings import SyncSettings
        from autoxero_cli.local import LocalDeployment, with_start_date

        os.environ["AWS_ENDPOINT_URL"] = info["aws"]  # any other boto3 client goes to moto too
        self._control = httpx.Client(base_url=info["xero"], timeout=30)
        self._autotask = httpx.Client(base_url=info["autotask"], timeout=120)
        self._autotask.post("/_sandbox/limits", json=limits).raise_for_status()
        self.clock = RemoteClock(self._control, info["now"] - time.time())
        self.waits = Waits(self.clock.advance)
        self.local = LocalDeployment.create(_Endpoints(info["endpoints"]), info["aws"], options={  # type: ignore[arg-type]
            "autotask": {"limiter": LocalLimiter(), "sleep": self.waits, "clock": self.clock.time},
            "xero": {"sleep": self.waits},
            "tokens": {"clock": self.clock.time, "sleep": self.clock.advance}})
        token = dict(info["token"])
        token["expires_at"] = self.clock.time() + float(token.get("expires_in", 1800))
        self.local.runtime().state.settings.save(SyncSettings.model_validate(with_start_date(dict(settings or {}))),
                                                 0)
        SecretStore(self.local.stack.client("secretsmanager")).update(
            self.local.stack.physical["XeroSecret"], {"token_set": token, "tenant_id": info["tenant_id"],
                                                      "tenant_name": "Harbour IT Ltd"})
        self.local.go_live("bench")
        self.rt = self.container()

    def container(self) -> Any:
        rt = self.local.runtime()
        rt.state.table.clock = self.clock.time  # caches and leases age on the sandbox clock, as between real runs
        return rt

    def run(self, flow: str, body: Callable[[Any], None], context: Any = None) -> dict[str, Any]:
        from autoxero.observability import metrics
        from autoxero.sync.build import build_run, execute_run

        try:
            return execute_run(self.rt, build_run(self.rt, flow, context, False), body)
        finally:
            metrics.clear_metrics()

    def unstamped(self) -> int:
        answer = self._autotask.get("/_sandbox/count/Invoices", params={"missing": "webServiceDate"})
        return int(answer.raise_for_status().json()["count"])

    def others(self) -> dict[str, Any]:
        """The simulator's view of the database's rolling hour: other integrations' rate, the peak count of
        everyone's requests, the requests it refused for the threshold."""
        answer = self._autotask.get("/_sandbox/limits").json()
        return {"hourly_limit": answer["hourly_limit"], **answer["other_integrations"]}

    def close(self) -> None:
        self._control.close()
        self._autotask.close()


def _top_allocations(snapshot: tracemalloc.Snapshot, count: int = 12) -> list[str]:
    stats = snapshot.statistics("traceback")[:count]
    return [f"{stat.size / MB:.1f} MB in {stat.count:,} blocks: " + " <- ".join(
        f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno}" for frame in list(stat.traceback)[-4:][::-1])
        for stat in stats]


def _sync_alone(info: dict[str, Any], invoices: int, settings: dict[str, Any] | None, limits: dict[str, Any],
                trace: bool) -> dict[str, Any]:
    from autoxero.observability import logger

    logger.setLevel("CRITICAL")  # the paced pass stops runs on purpose: not news
    h = RemoteHarness(info, settings, limits)
    try:
        rss_before = _rss_mb()
        if trace:
            tracemalloc.start(8)
        with reference_cache_on(h.clock.time):
            figures = drive(h, h.unstamped, invoices)
        figures.update(rss_before_mb=round(rss_before, 1), rss_peak_mb=round(_rss_mb(), 1),
                       waited_seconds=round(h.waits.seconds, 1), waits=h.waits.count, **h.others())
        if trace:
            _, peak = tracemalloc.get_traced_memory()
            figures.update(tracemalloc_peak_mb=round(peak / MB, 1), top=_top_allocations(tracemalloc.take_snapshot()))
            tracemalloc.stop()
        return figures
    finally:
        h.close()


def _in_process(invoices: int, settings: dict[str, Any] | None) -> dict[str, Any]:
    """The older method (issue 8's 157 MB, issue 14's 223 MB): the sync, both simulators and moto in one
    process; its RSS is theirs together."""
    from autoxero.observability import logger
    from bench import fastmoto
    from bench.chaos import Harness

    fastmoto.install()
    logger.setLevel("CRITICAL")
    data = backfill_tenant(invoices)
    waits = Waits()  # the clients' sleep; it learns the sandbox clock once the harness has started it
    h = Harness(data, settings, 0, autotask_limits={"hourly_limit": 1_000_000}, xero_options={"sleep": waits},
                autotask_options={"sleep": waits})
    waits.advance = h.clock.advance
    h.rt.state.table.clock = h.clock.time
    try:
        rss_before = _rss_mb()
        with h.reference_cache_on_sandbox_time():
            figures = drive(h, lambda: sum(1 for i in h.sandbox.autotask.state("Invoices")
                                           if not i.get("webServiceDate")), invoices)
        return {"rss_before_mb": round(rss_before, 1), "rss_peak_mb": round(_rss_mb(), 1),
                "unstamped": figures["unstamped"], "wall_seconds": figures["wall_seconds"]}
    finally:
        h.close()


def run(invoices: int = 10_000, *, bound: bool = True, paced: bool = True, trace: bool = False,
        one_process: bool = False) -> dict[str, dict[str, Any]]:
    """Each pass in a fresh process (its VmHWM is its own), one at a time, against one sandbox process."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child, invoices), daemon=True)
    server.start()
    passes = [("xero_bound", LIFTED, XERO_BOUND, False)] if bound else []
    if paced:
        passes.append(("paced", None, PACED, False))
    if trace:
        passes.append(("traced", LIFTED, XERO_BOUND, True))
    figures: dict[str, dict[str, Any]] = {}
    try:
        if not parent.poll(600):
            raise RuntimeError("the sandbox process did not start")
        info = parent.recv()
        for name, settings, limits, traced in passes:
            with context.Pool(1) as pool:
                figures[name] = pool.apply(_sync_alone, (info, invoices, settings, limits, traced))
            parent.send("reset")
            info = parent.recv()
    finally:
        parent.send("stop")
        server.join(60)
    if one_process:
        with context.Pool(1) as pool:
            figures["one_process"] = pool.apply(_in_process, (invoices, LIFTED))
    return figures


# ----------------------------------------------------------------------------- the tables


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(f: dict[str, dict[str, Any]], loads: tuple[str, str]) -> Any:
    from rich.table import Table

    n = next(iter(f.values()))["invoices"]
    out = Table(title=f"backfill of {n:,} invoices (1-3 lines, 100 customers), sandbox clock; "
                      f"{loads[0]} at the start, {loads[1]} at the end")
    for column in ("figure", "value", "goal / note"):
        out.add_column(column)
    bound = f.get("xero_bound")
    if bound:
        _bound_rows(out, bound)
    paced = f.get("paced")
    if paced:
        _paced_rows(out, paced, bound)
    traced = f.get("traced")
    if traced:
        out.add_row("tracemalloc pass: Python allocations' peak / that process's RSS",
                    f"{traced['tracemalloc_peak_mb']} / {traced['rss_peak_mb']} MB",
                    "tracemalloc's own bookkeeping inflates RSS")
    one = f.get("one_process")
    if one:
        out.add_row("older method: sync + simulators + moto in one process", f"{one['rss_peak_mb']} MB",
                    f"{one['rss_before_mb']} MB before the backfill")
    return out


def _bound_rows(out: Any, bound: dict[str, Any]) -> None:
    n, calls = bound["invoices"], bound["xero_calls"]
    minimum = max(60, (math.ceil(calls / XERO_MINUTE) - 1) * 60)
    out.add_row("Xero-bound pass (Autotask threshold and pacing lifted): elapsed",
                f"{bound['sandbox_seconds']:,.0f} s", f"minimum (ceil({calls} / 60) - 1) min = {minimum} s; ratio "
                f"{bound['sandbox_seconds'] / minimum:.2f}; waits {bound['waited_seconds']:,.0f} s, the rest is "
                "computing on this machine")
    out.add_row("Xero calls per 1,000 invoices (whole backfill)", f"{calls * 1000 / n:.1f}",
                f"{calls} calls in {bound['runs']} runs; floor 20 (50 a write); goal <= 22")
    out.add_row("Autotask requests per 1,000 invoices", f"{bound['autotask_calls'] * 1000 / n:,.0f}",
                "one PATCH per invoice (webServiceDate) + reads")
    out.add_row("peak RSS of the sync process, Xero-bound pass", f"{bound['rss_peak_mb']} MB",
                f"goal <= 150 MB; {bound['rss_before_mb']} MB before the backfill (imports, clients)")


def _paced_rows(out: Any, paced: dict[str, Any], bound: dict[str, Any] | None) -> None:
    hours = per_hour(paced["per_run"])
    out.add_row(f"paced pass: other integrations {OTHERS_SHARE:.0%} of {THRESHOLD:,}/h; default settings "
                "(share 50 %, budget 2,000/h)", f"{paced['runs']} runs",
                f"unstamped at the end: {paced['unstamped']}")
    out.add_row("  backfill elapsed under the budget", f"{paced['sandbox_seconds'] / 3600:.1f} h",
                (f"Xero-bound pass: {bound['sandbox_seconds'] / 3600:.2f} h; " if bound else "")
                + f"computing took {paced['wall_seconds']:,.0f} s")
    out.add_row("  autoxero's Autotask requests in each hour", ", ".join(f"{h:,}" for h in hours),
                f"{paced['autotask_calls']:,} in all; budget 2,000 an hour")
    out.add_row("  peak share of the threshold (everyone's requests)", f"{paced['peak_share']:.1%}",
                f"goal <= 50 %; requests Autotask refused: {paced['refused_hourly']}")
    out.add_row("  peak RSS of the sync process, paced pass", f"{paced['rss_peak_mb']} MB", "goal <= 150 MB")


METHOD = ("Memory method: VmHWM (/proc/self/status: the kernel's high-water mark of the process's resident memory; "
          "not getrusage's ru_maxrss, which Linux carries over from the parent across fork and exec) of a freshly "
          "spawned process that runs only the sync; the simulators and moto run in another process and are reached "
          "over loopback HTTP, as AWS would be. That process also imports the harness (LocalDeployment: the sandbox "
          "and Starlette/uvicorn modules, rich, yaml), which a Lambda does not, so the figure errs high. Earlier "
          "figures differ by method: issue 8's 157 MB and issue 14's 223 MB were the RSS of the sync-alone process "
          "with tracemalloc running in it (its bookkeeping counted: +24 MB already at 300 invoices), whose harness "
          "also copied every Autotask invoice into that process after each run to count the unstamped ones; and "
          "223 MB predates candidates streamed in chunks (a run then held every page of candidates).")


def main(argv: list[str] | None = None, console: Any = None) -> int:
    from rich.console import Console

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--no-bound", action="store_true", help="skip the Xero-bound pass")
    parser.add_argument("--no-paced", action="store_true", help="skip the paced pass")
    parser.add_argument("--trace", action="store_true", help="add a pass with tracemalloc on (where memory goes)")
    parser.add_argument("--runs", action="store_true", help="print each run of each pass")
    parser.add_argument("--one-process", action="store_true", help="add the older one-process RSS figure")
    args = parser.parse_args(argv)
    console = console or Console(width=150)
    before = load()
    figures = run(args.invoices, bound=not args.no_bound, paced=not args.no_paced, trace=args.trace,
                  one_process=args.one_process)
    console.print(table(figures, (before, load())))
    console.print(METHOD, highlight=False)
    if args.runs:
        for name, one in figures.items():
            console.print(f"{name}: runs (start s, created, Xero, Autotask, stopped, unstamped after, RSS now/peak MB)",
                          highlight=False)
            for r in one.get("per_run", []):
                console.print(f"  {r['at']:>6} {r['created']:>5} {r['xero_calls']:>4} {r['autotask_calls']:>5} "
                              f"{str(r['stopped'])[:60]:<60} {r['unstamped_after']:>5} "
                              f"{r['rss_mb']}/{r['peak_rss_mb']}", highlight=False)
    if "traced" in figures:
        console.print("largest live allocations at the end of the traced pass:", highlight=False)
        for line in figures["traced"]["top"]:
            console.print("  " + line, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
