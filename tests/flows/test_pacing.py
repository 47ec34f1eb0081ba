"""Pacing against Autotask's hourly threshold: the database is shared with the MSP's other integrations, so a
backfill must spread over hours rather than take the whole threshold and lock everyone out.

Untimed: the runs happen on the sandbox clock (each a Lambda of 900 s, the next at the next 15-minute tick);
the truth (refusals, the peak count) is read from the Autotask simulator's own counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from autoxero.autotask.limiter import LocalLimiter
from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero.sync.progress import backfill_progress
from autoxero_cli.local import LocalDeployment
from sandbox.fixtures.builder import STANDARD, SUPPORT, Tenant
from sandbox.server import Sandbox

THRESHOLD = 300  # a small database threshold keeps the test short; the rule is the same at 10,000
OTHERS = 90  # other integrations: 30 % of the threshold, every hour
INVOICES = 220
SCHEDULE = 900


@dataclass
class Context:
    clock: object
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - self.clock.time()) * 1000)  # type: ignore[attr-defined]


@pytest.fixture
def busy_database(aws):
    tenant = Tenant()
    for c in range(30):
        tenant.company(100 + c, f"Pacing Customer {c:02d} Ltd")
    for i in range(INVOICES):
        tenant.invoice(5000 + i, 100 + i % 30, f"P-{i:04d}", [(1, 10 + i % 7, STANDARD, SUPPORT)])
    sandbox = Sandbox.start(tenant.data, autotask_limits={"hourly_limit": THRESHOLD,
                                                          "other_integrations_per_hour": OTHERS})
    advance = sandbox.clock.advance
    local = LocalDeployment.create(sandbox, options={
        "autotask": {"limiter": LocalLimiter(), "sleep": advance, "clock": sandbox.clock.time},
        "xero": {"sleep": advance}})
    local.connect_xero_directly()
    local.go_live("tests")
    try:
        yield local
    finally:
        sandbox.stop()


def unstamped(sandbox: Sandbox) -> int:
    return sum(1 for i in sandbox.autotask.state("Invoices") if not i.get("webServiceDate"))


def backfill(local: LocalDeployment, max_runs: int = 80, progress: list | None = None) -> list[dict]:
    """Contacts once, then an invoices run at every 15-minute tick until every invoice is stamped."""
    clock = local.sandbox.clock
    rt = local.runtime()
    summaries = [execute_run(rt, build_run(rt, "contacts", Context(clock, clock.time() + 900), False),
                             run_contacts)]
    for _ in range(max_runs):
        begun = clock.time()
        run = build_run(rt, "invoices", Context(clock, begun + 900), False)
        summaries.append(execute_run(rt, run, run_invoices))
        if progress is not None:
            progress.append(backfill_progress(rt.state, rt.settings))
        if unstamped(local.sandbox) == 0:
            break
        clock.advance(math.ceil((clock.time() - begun + 1) / SCHEDULE) * SCHEDULE - (clock.time() - begun))
    return summaries


def test_a_backfill_leaves_other_integrations_their_quota(busy_database):
    local = busy_database
    started = local.sandbox.clock.time()
    progress: list = []
    summaries = backfill(local, progress=progress)
    others = local.sandbox.autotask.other_integrations()
    assert unstamped(local.sandbox) == 0, "the backfill did not finish"
    assert others["refused_hourly"] == 0, "Autotask refused requests: the database reached its threshold"
    assert others["peak_count"] <= THRESHOLD // 2, f"peak {others['peak_count']} of {THRESHOLD}: over the 50 % share"
    hours = (local.sandbox.clock.time() - started) / 3600
    assert hours > 2, "the backfill should spread over hours at this share"
    assert any("other integrations" in (s.get("stopped") or "") for s in summaries)
    # what `autoxero status` shows: the backlog shrinks to nothing, with an ETA while there is one
    first = progress[0]
    assert 0 < first.left < INVOICES and first.eta_hours is not None and first.eta_hours > 1
    assert abs(first.per_hour - (THRESHOLD // 2 - OTHERS)) <= 10  # the share leaves autoxero ~150 - 90 an hour
    assert progress[-1].left == 0
