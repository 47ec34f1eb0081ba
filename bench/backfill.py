"""Backfill: 10,000 invoices (1-3 lines each, 100 customers) through the invoices flow under the APIs'
enforced limits, timed on the sandbox clock, and the memory it takes.

Each invoices run is a Lambda invocation with SyncInvoicesFunction's 900 s timeout measured on the sandbox
clock (the flow stops 90 s before it with its state saved); when a run stops early, the next one starts at
the next tick of the 15-minute schedule. Runs repeat until no invoice is left unstamped.

Time. Elapsed = sandbox clock after - before, contacts run included. The sandbox clock is the wall clock
plus every wait the clients made (Retry-After, low-headroom pauses, back-off): waits advance it instead of
sleeping, and the real time the sync, the simulators and moto spend computing counts as well.
Theoretical minimum = ceil(xero_calls / 60) minutes, xero_calls being the Xero calls the backfill made
(Xero allows 60 a minute; the sync makes one call at a time, so 5-in-flight never binds). Also printed: the
tighter bound (ceil(xero_calls / 60) - 1) minutes, for a last minute whose calls all go at its start.

Memory, three figures, each from a fresh process:
- `rss_peak_mb`: ru_maxrss (resource.getrusage, the kernel's high-water mark of resident memory) of a process
  holding the sync and also the sandbox simulators and moto (in threads), as `make bench` runs them;
- `sync_rss_peak_mb` and `sync_tracemalloc_peak_mb`: the same backfill with the simulators and moto in
  another process (HTTP on loopback, as in AWS), so that the process measured holds the sync alone: its
  ru_maxrss, and tracemalloc's peak of Python allocations during the backfill (traced from just before the
  contacts run, so imports and setup are not in it). That pass runs slower (tracemalloc), so its time is
  not reported.

Pass 1 lifts Autotask's 10,000-requests-an-hour threshold, so that Xero's limits are the ones that bind:
stamping each invoice (one PATCH per invoice: Autotask has no batch update) plus the reads is just over
10,000 Autotask requests for 10,000 invoices. Pass 3 keeps Autotask's threshold and shows what it costs.

    python -m bench.backfill [--invoices 10000] [--no-isolated] [--no-autotask-limit]
"""

from __future__ import annotations

import argparse
import json
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

from sandbox.fixtures.builder import MANAGED, STANDARD, SUPPORT, Tenant

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

LAMBDA_TIMEOUT = 900  # SyncInvoicesFunction's Timeout in template.yaml
SCHEDULE = 15 * 60  # SyncRateMinutes default
XERO_MINUTE = 60
MAX_RUNS = 40
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
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


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
        runs.append({"created": summary.get("created", 0), "xero_calls": summary["xero_calls"],
                     "autotask_calls": summary["autotask_calls"], "stopped": summary.get("stopped"),
                     "sandbox_seconds": round(h.clock.time() - begun, 1), "unstamped_after": left})
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


# ----------------------------------------------------------------------------- pass 1 and 3: one process


def _in_process(invoices: int, autotask_hourly_limit: int | None) -> dict[str, Any]:
    from autoxero.observability import logger
    from bench.chaos import Harness

    logger.setLevel("ERROR")  # pass 3 expects Autotask's hourly threshold: its give-ups are not news
    data = backfill_tenant(invoices)
    limits = {"hourly_limit": autotask_hourly_limit} if autotask_hourly_limit else None
    waits = Waits()  # the clients' sleep; it learns the sandbox clock once the harness has started it
    h = Harness(data, None, 0, autotask_limits=limits, xero_options={"sleep": waits},
                autotask_options={"sleep": waits})
    waits.advance = h.clock.advance
    try:
        rss_before = _rss_mb()
        figures = drive(h, lambda: sum(1 for i in h.sandbox.autotask.state("Invoices")
                                       if not i.get("webServiceDate")), invoices)
        figures.update(waited_seconds=round(waits.seconds, 1), waits=waits.count,
                       rss_before_mb=round(rss_before, 1), rss_peak_mb=round(_rss_mb(), 1),
                       autotask_hourly_limit=h.sandbox.autotask.hourly_limit)
        return figures
    finally:
        h.close()


# ----------------------------------------------------------------------------- pass 2: the sync alone


def _serve(conn: Connection, invoices: int) -> None:
    """The other process: both simulators and moto (server mode), until told to stop."""
    import logging

    from autoxero_cli.localenv import local_aws
    from sandbox.server import Sandbox

    sandbox = Sandbox.start(backfill_tenant(invoices).data, autotask_limits={"hourly_limit": 1_000_000})
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    try:
        with local_aws() as aws:
            conn.send({"aws": aws, "endpoints": sandbox.endpoints, "xero": sandbox.xero_url,
                       "autotask": sandbox.autotask_url, "tenant_id": sandbox.xero.tenant_id,
                       "token": sandbox.xero.issue_token_set(scope="offline_access accounting.invoices "
                                                             "accounting.payments accounting.contacts "
                                                             "accounting.settings"),
                       "now": sandbox.clock.time()})
            conn.recv()
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

    def __init__(self, info: dict[str, Any]) -> None:
        from autoxero.autotask.limiter import LocalLimiter
        from autoxero.secrets import SecretStore
        from autoxero_cli.local import LocalDeployment

        os.environ["AWS_ENDPOINT_URL"] = info["aws"]  # any other boto3 client goes to moto too
        self._control = httpx.Client(base_url=info["xero"], timeout=30)
        self._autotask = httpx.Client(base_url=info["autotask"], timeout=120)
        self.clock = RemoteClock(self._control, info["now"] - time.time())
        self.waits = Waits(self.clock.advance)
        self.local = LocalDeployment.create(_Endpoints(info["endpoints"]), info["aws"], options={  # type: ignore[arg-type]
            "autotask": {"limiter": LocalLimiter(), "sleep": self.waits, "clock": self.clock.time},
            "xero": {"sleep": self.waits},
            "tokens": {"clock": self.clock.time, "sleep": self.clock.advance}})
        token = dict(info["token"])
        token["expires_at"] = self.clock.time() + float(token.get("expires_in", 1800))
        SecretStore(self.local.stack.client("secretsmanager")).update(
            self.local.stack.physical["XeroSecret"], {"token_set": token, "tenant_id": info["tenant_id"],
                                                      "tenant_name": "Harbour IT Ltd"})
        self.rt = self.container()

    def container(self) -> Any:
        return self.local.runtime()

    def run(self, flow: str, body: Callable[[Any], None], context: Any = None) -> dict[str, Any]:
        from autoxero.observability import metrics
        from autoxero.sync.build import build_run, execute_run

        try:
            return execute_run(self.rt, build_run(self.rt, flow, context, False), body)
        finally:
            metrics.clear_metrics()

    def unstamped(self) -> int:
        items = self._autotask.get("/_sandbox/state/Invoices").json()["items"]
        return sum(1 for i in items if not i.get("webServiceDate"))

    def close(self) -> None:
        self._control.close()
        self._autotask.close()


def _sync_alone(info: dict[str, Any], invoices: int) -> dict[str, Any]:
    from autoxero.observability import logger

    logger.setLevel("WARNING")
    h = RemoteHarness(info)
    try:
        tracemalloc.start()
        figures = drive(h, h.unstamped, invoices)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {"sync_tracemalloc_peak_mb": round(peak / MB, 1), "sync_rss_peak_mb": round(_rss_mb(), 1),
                "sync_pass_unstamped": figures["unstamped"]}
    finally:
        h.close()


def _isolated(invoices: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child, invoices), daemon=True)
    server.start()
    try:
        if not parent.poll(300):
            raise RuntimeError("the sandbox process did not start")
        info = parent.recv()
        with context.Pool(1) as pool:
            return dict(pool.apply(_sync_alone, (info, invoices)))
    finally:
        parent.send("stop")
        server.join(30)


# ----------------------------------------------------------------------------- entry points


def _fresh(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run a pass in a new process, so that its ru_maxrss is its own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return dict(pool.apply(function, args))


def run(invoices: int = 10_000, *, isolated: bool = True, with_autotask_limit: bool = True) -> dict[str, Any]:
    """The backfill figures: pass 1 (time, and the RSS of the process holding everything), pass 2 (the sync
    alone: RSS and tracemalloc) and pass 3 (time with Autotask's hourly threshold kept)."""
    figures = _fresh(_in_process, invoices, 1_000_000)
    figures["autotask_hourly_limit"] = "lifted (1,000,000/h)"
    if isolated:
        figures.update(_isolated(invoices))
    if with_autotask_limit:
        limited = _fresh(_in_process, invoices, None)
        figures["with_autotask_limit"] = {k: limited[k] for k in (
            "runs", "unstamped", "xero_calls", "autotask_calls", "sandbox_seconds", "minimum_seconds", "ratio",
            "wall_seconds", "per_run")}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--no-isolated", action="store_true", help="skip pass 2 (the sync alone)")
    parser.add_argument("--no-autotask-limit", action="store_true", help="skip pass 3 (Autotask's hourly limit)")
    args = parser.parse_args(argv)
    figures = run(args.invoices, isolated=not args.no_isolated, with_autotask_limit=not args.no_autotask_limit)
    per_run = figures.pop("per_run")
    limited = figures.pop("with_autotask_limit", None)
    print(f"backfill of {figures['invoices']:,} invoices (1-3 lines, 100 customers), Xero limits enforced "
          "(60 a minute, 5 in flight), sandbox clock")
    print(f"  elapsed {figures['sandbox_seconds']:,.0f} s on the sandbox clock (of which waits "
          f"{figures['waited_seconds']:,.0f} s; wall {figures['wall_seconds']:,.0f} s)")
    print(f"  minimum ceil({figures['xero_calls']} Xero calls / 60) min = {figures['minimum_seconds']} s; "
          f"ratio {figures['ratio']:.2f} (goal <= 1.10)")
    print(f"  tighter bound (ceil(calls / 60) - 1) min = {figures['tight_minimum_seconds']} s, the last minute's "
          f"calls all made at its start: ratio {figures['tight_ratio']:.2f}")
    print(f"  invoices runs {figures['runs']} (Lambda timeout {LAMBDA_TIMEOUT} s on the sandbox clock); "
          f"unstamped at the end {figures['unstamped']}; Autotask calls {figures['autotask_calls']:,}")
    print(f"  peak RSS, sync + simulators + moto in one process (getrusage ru_maxrss): {figures['rss_peak_mb']} MB "
          f"(before the backfill: {figures['rss_before_mb']} MB)")
    if "sync_rss_peak_mb" in figures:
        print(f"  the sync alone (simulators and moto in another process): peak RSS {figures['sync_rss_peak_mb']} MB, "
              f"tracemalloc peak {figures['sync_tracemalloc_peak_mb']} MB (goal <= 200 MB)")
    for number, one in enumerate(per_run, 1):
        print(f"    run {number}: {json.dumps(one)}")
    if limited:
        print(f"  with Autotask's 10,000 requests an hour kept: {limited['runs']} runs, elapsed "
              f"{limited['sandbox_seconds']:,.0f} s for {limited['autotask_calls']:,} Autotask calls "
              f"(ratio to the Xero minimum {limited['ratio']:.2f}); unstamped at the end {limited['unstamped']}")
        for number, one in enumerate(limited["per_run"], 1):
            print(f"    run {number}: {json.dumps(one)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
