"""Chaos: every flow under injected faults and crashes, rerun until the system settles, then judged from the
simulators' own state (bench/chaos_truth.py).

Per seed, a tenant with N invoices (1-3 lines, a few negative ones that become credit notes, a few whose
number another Xero invoice already has), purchase orders, and payments applied in Xero between rounds. Odd
seeds let Autotask number the Xero documents, even seeds let Xero number them (Autotask's number in Reference,
Xero's written back). Both simulators fail 10 % of requests (seeded): 429s, 5xx, answers that arrive after the
client's read timeout (the request processed, its answer lost), requests never answered, dropped connections.
The process "dies" at random points (CrashInjected, from the id map's writes, `Ledger.append_many`, Autotask
PATCH and the Secrets Manager write of a refreshed Xero token: before, part-way through a batch, or after the
real work); 30 % of deaths are hard — no `finally` runs, so their leases stay until they expire. The next run
gets a new runtime, as a new Lambda container would.

Planted, whatever the dice say: Xero's answer to the first batch of invoices (or bills) is lost (the batch is
sent again); the first invoices run that records Xero's answer dies just before it; after each chaos round a
person renumbers 30 % of the unstamped invoices never renumbered before; and in the first round whose invoices
run writes to Xero, a person starts a one-invoice `autoxero sync` while that run waits on Xero.

A round runs the token watch, then contacts, invoices, purchase orders and payments once each, as their
schedules would; once neither simulator is still serving a request (a late answer is processed 0.8 s after it
arrived, never after the jump), the sandbox clock moves on one schedule period (15 minutes, beyond Xero's
~6-minute Idempotency-Key window). Rounds repeat with chaos on until one completes with no crash, no aborted run and no
early stop (at least 3, at most 20), then with chaos off until a round completes and changes nothing in Xero or
Autotask: settled. Then every invoice still owed is paid in Xero and the system must settle again. Then the
truth checks.

Waits (Retry-After, back-off, low headroom, lease waits) advance the sandbox clock; nothing sleeps for real
except the injected late answers themselves. The token race: 10 concurrent invocations with an access token at
(or past) its expiry, 5 times: each time exactly one refresh at Xero and no invalid_grant.

    python -m bench.chaos_report [--seeds 20] [--invoices 200] [--quick]   (make chaos, make chaos-quick)
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autoxero.autotask import models as at
from autoxero.observability import metrics
from autoxero.secrets import SecretStore
from autoxero.state.leases import LeaseBusy
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero.sync.payments import run_payments
from autoxero.sync.purchase_orders import run_purchase_orders
from autoxero.xero.client import XeroClient
from autoxero.xero.tokens import TokenManager
from bench import chaos_mutants
from bench.chaos_truth import INTERNAL_CHECKS, TRUTH_CHECKS, Planted
from bench.chaos_truth import check as truth_check
from bench.chaos_world import (  # noqa: F401 - the world's names, as the tests reach them through this module
    AUTOTASK_TIMEOUT,
    SETTINGS,
    XERO_TIMEOUT,
    Crashes,
    CrashInjected,
    Faults,
    Harness,
    Payer,
    _recent,
    build_run,
    chaos_tenant,
    execute_run,
)
from sandbox.fixtures.builder import Tenant

FLOWS: list[tuple[str, Callable[[Any], None]]] = [
    ("contacts", run_contacts), ("invoices", run_invoices), ("purchase_orders", run_purchase_orders),
    ("payments", run_payments)]
NUMBERING = ("autotask", "xero")  # odd seeds: Autotask numbers; even seeds: Xero numbers, Autotask's in Reference
RENUMBER_SHARE = 0.3  # after each chaos round, this share of the unstamped invoices never renumbered is renumbered


# ----------------------------------------------------------------------------- one seed


@dataclass
class SeedResult:
    seed: int
    invoices: int
    purchase_orders: int
    numbering: str = "autotask"
    mutant: str | None = None
    calls: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    aborted: Counter[str] = field(default_factory=Counter)  # runs ended by an exception (not a crash)
    overlaps: Counter[str] = field(default_factory=Counter)  # a person's sync during a scheduled run: how it went
    renumbered: int = 0
    stopped: int = 0  # runs that stopped cleanly before finishing (e.g. a throttle)
    rounds: int = 0
    chaos_rounds: int = 0
    settled: bool = False
    payments: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)  # check -> what failed
    stale_attention: list[str] = field(default_factory=list)  # reported, not a check
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    CHECKS = TRUTH_CHECKS + INTERNAL_CHECKS

    def failed(self, check: str) -> int:
        return len(self.failures.get(check, []))

    @property
    def ok(self) -> bool:
        return self.settled and not any(self.failures.get(c) for c in self.CHECKS)

    @property
    def caught_by(self) -> list[str]:
        """The truth checks that failed: what catches a mutant (our own id map never does)."""
        return [c for c in TRUTH_CHECKS if self.failures.get(c)]


def settings_for(numbering: str) -> dict[str, Any]:
    return {"invoices": {**SETTINGS["invoices"], "numbering": numbering}}


def _died(h: Harness, crashes: Crashes) -> None:
    """The next invocation lands in a new container; a hard death's leases stay until they expire."""
    crashes.hard = False
    h.rt = h.container()


def _round(h: Harness, result: SeedResult, crashes: Crashes, planted: Planted, overlap: bool = False) -> bool:
    """The token watch, then each flow once; True when every run completed (no crash, no exception, no early
    stop). With `overlap`, a person's one-invoice sync starts while the scheduled invoices run waits on Xero."""
    complete = True
    try:
        h.container().xero_tokens.recover()  # the token watch's schedule, every 10 minutes
    except CrashInjected:
        _died(h, crashes)
        complete = False
    except Exception as err:
        result.aborted[f"token watch: {type(err).__name__}"] += 1
    for flow, body in FLOWS:
        try:
            summary = _overlapping(h, result, crashes, planted) if overlap and flow == "invoices" else h.run(flow, body)
        except CrashInjected:
            complete = False
            _died(h, crashes)
        except Exception as err:
            complete = False
            result.aborted[f"{flow}: {type(err).__name__}"] += 1
            h.rt = h.container()
        else:
            if summary.get("stopped"):
                complete = False
                result.stopped += 1
    return complete


def _overlapping(h: Harness, result: SeedResult, crashes: Crashes, planted: Planted) -> dict[str, Any]:
    """The scheduled invoices run pauses just before its first sales-invoice write to Xero; meanwhile a person
    runs `autoxero sync` for the first invoice of that batch (a run of its own, in another process). The
    lease must turn the person away; without it both write."""
    reached, go = threading.Event(), threading.Event()
    paused: dict[str, Any] = {}
    original = XeroClient.__dict__["write"]
    worker: threading.Thread

    def pausing(client: XeroClient, operation: str, key: str, model: Any, records: list[dict[str, Any]],
                **params: Any) -> Any:
        if (threading.current_thread() is worker and not reached.is_set() and operation == "create_invoices"
                and any(r.get("Type") == "ACCREC" for r in records)):
            paused["record"] = records[0]
            reached.set()
            go.wait(120)
        return original(client, operation, key, model, records, **params)

    outcome: dict[str, Any] = {}

    def scheduled() -> None:
        try:
            outcome["summary"] = h.run("invoices", run_invoices)
        except BaseException as err:
            outcome["error"] = err
        finally:
            reached.set()

    XeroClient.write = pausing  # type: ignore[method-assign]
    worker = threading.Thread(target=scheduled)
    try:
        worker.start()
        reached.wait(300)
        if "record" in paused:
            _person_syncs_one(h, result, crashes, planted, paused["record"])
    finally:
        go.set()
        worker.join()
        XeroClient.write = original  # type: ignore[method-assign]
    if "error" in outcome:
        raise outcome["error"]
    return dict(outcome["summary"])


def _person_syncs_one(h: Harness, result: SeedResult, crashes: Crashes, planted: Planted,
                      record: dict[str, Any]) -> None:
    field_name = "InvoiceNumber" if planted.numbering == "autotask" else "Reference"
    number = str(record.get(field_name) or "").split(" ")[0]
    invoice_id = planted.numbers.get(number)
    if invoice_id is None:
        result.overlaps["no invoice to sync"] += 1
        return
    invoice = at.Invoice.model_validate(h.sandbox.autotask.record("Invoices", invoice_id))
    person = h.container()
    try:
        execute_run(person, build_run(person, "invoices", None, False),
                    lambda run: run_invoices(run, [invoice]))
        result.overlaps["both ran"] += 1
    except LeaseBusy:
        result.overlaps["turned away by the lease"] += 1
    except CrashInjected:
        crashes.hard = False
        result.overlaps["person's run died"] += 1
    except Exception as err:
        result.overlaps[f"person's run: {type(err).__name__}"] += 1
    finally:
        metrics.clear_metrics()


def _renumber(h: Harness, planted: Planted, rng: random.Random) -> int:
    """A person edits invoice numbers in Autotask: a share of the invoices not yet stamped (some of them may
    be in Xero already, their run having died before recording it) get a new number."""
    renumbered = 0
    for invoice in h.sandbox.autotask.state("Invoices"):
        if (invoice.get("webServiceDate") or invoice["id"] in planted.impossible
                or list(planted.numbers.values()).count(invoice["id"]) > 1 or rng.random() >= RENUMBER_SHARE):
            continue
        number = f"{invoice['invoiceNumber']}R"
        h.sandbox.autotask.touch("Invoices", invoice["id"], {"invoiceNumber": number})
        planted.renumber(invoice["id"], number)
        renumbered += 1
    return renumbered


def fingerprint(h: Harness) -> str:
    """What a run can change in the two systems: Xero's documents and contacts, Autotask's invoices (the id map
    is ours, not the truth: a run that changes only it has nothing left to do in either system)."""
    xero = h.sandbox.xero
    parts: list[Any] = []
    for entity, key in (("Contacts", "ContactID"), ("Invoices", "InvoiceID"), ("CreditNotes", "CreditNoteID"),
                        ("PurchaseOrders", "PurchaseOrderID")):
        parts += [(entity, r[key], r.get("Status"), r.get("UpdatedDateUTC")) for r in xero.state(entity)]
    parts += [("AT", r["id"], r.get("webServiceDate"), r.get("paidDate"), r.get("invoiceNumber"))
              for r in h.sandbox.autotask.state("Invoices")]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _plant(h: Harness, data: Tenant, numbering: str) -> Planted:
    xero_numbers = {i["InvoiceNumber"] for i in h.sandbox.xero.state("Invoices")}
    planted = Planted(numbering, numbers={str(i["invoiceNumber"]): int(i["id"]) for i in data.at["Invoices"]},
                      preexisting={i["InvoiceID"] for i in h.sandbox.xero.state("Invoices")})
    if numbering == "autotask":  # Xero refuses a sales invoice number it already has
        planted.impossible = {invoice_id: "its number is already used in Xero"
                              for number, invoice_id in planted.numbers.items() if number in xero_numbers}
    return planted


def _settle(h: Harness, result: SeedResult, crashes: Crashes, planted: Planted, rounds: int) -> bool:
    """Clean rounds (no chaos) until one completes and changes nothing."""
    for _ in range(rounds):
        result.rounds += 1
        before = fingerprint(h)
        complete = _round(h, result, crashes, planted)
        h.next_schedule()
        if complete and fingerprint(h) == before:
            return True
    return False


def scenario(seed: int, invoices: int = 1000, *, fault_rate: float = 0.10, crash_scale: float = 1.0,
             numbering: str | None = None, mutant: str | None = None,
             max_rounds: int = 30, min_chaos_rounds: int = 3, max_chaos_rounds: int = 20) -> SeedResult:
    """One tenant under chaos until it settles; then every outstanding invoice is paid in Xero and the
    system settles again; then the truth checks."""
    started = time.perf_counter()
    numbering = numbering or NUMBERING[(seed + 1) % 2]
    data, orders = chaos_tenant(seed, invoices)
    result = SeedResult(seed, invoices, orders, numbering, mutant)
    h = Harness(data, settings_for(numbering), seed, xero_options={"timeout": XERO_TIMEOUT},
                autotask_options={"timeout": AUTOTASK_TIMEOUT})
    faults = Faults(h.sandbox, fault_rate, seed)
    crashes = Crashes(seed, crash_scale)
    planted = _plant(h, data, numbering)
    payer = Payer(h, seed, planted.preexisting)
    rng = random.Random(seed * 7 + 3)
    try:
        with chaos_mutants.installed(mutant), crashes.installed(), h.reference_cache_on_sandbox_time():
            complete = False
            # Planted in the first round, whatever the dice say: Xero's answer to the first sales-invoice
            # batch is lost (the batch is sent again), and the run dies once Xero has created the batch, before
            # the id map records it. The renumbering that follows then hits invoices already in Xero.
            crashes.planted.append(("record_many", lambda args: bool(args) and args[0] == "invoice", "before"))
            while result.chaos_rounds < max_chaos_rounds and not (complete and result.chaos_rounds >= min_chaos_rounds):
                faults.on()
                crashes.enabled = True
                result.rounds += 1
                result.chaos_rounds += 1
                complete = _round(h, result, crashes, planted, overlap=not result.overlaps)
                faults.off()
                crashes.enabled = False
                result.renumbered += _renumber(h, planted, rng)
                payer.apply()
                h.next_schedule()
            left = max_rounds - result.rounds
            if _settle(h, result, crashes, planted, left // 2):
                payer.apply(everything=True)  # late payments: whatever is still owed is paid now
                h.next_schedule()
                result.settled = _settle(h, result, crashes, planted, left - left // 2)
        told = {i.record_id for i in h.rt.state.attention.list("invoices")}
        result.failures = truth_check(h.sandbox, planted, told)
        result.failures["pending"] = [str(i["pk"]) for i in h.map_items(status="pending")]
        result.stale_attention = stale_attention(h)
        codes = Counter(f"{i.flow}:{i.code}" for i in h.rt.state.attention.list())
        result.notes.append(f"attention {dict(sorted(codes.items()))}")
    finally:
        faults.off()
        result.faults = Counter(faults.fired)
        result.crashes = crashes.count
        result.payments = payer.payments
        result.calls = h.api_calls() - payer.calls + sum(
            n for k, n in result.faults.items() if not k.endswith("latency"))
        result.seconds = time.perf_counter() - started
        h.close()
    return result


def stale_attention(h: Harness) -> list[str]:
    """Needs-attention items about invoices that are stamped in Autotask and in Xero (read from the simulators):
    nothing is left for a person to do, yet the item still asks them to act. Reported, not a check."""
    stamped = {str(i["id"]) for i in h.sandbox.autotask.state("Invoices") if i.get("webServiceDate")}
    return [f"{i.record_id} {i.code}" for i in h.rt.state.attention.list("invoices") if i.record_id in stamped]


# ----------------------------------------------------------------------------- the token race


@dataclass
class RaceResult:
    concurrency: int
    rounds: int
    refreshes: list[int] = field(default_factory=list)  # per round, at Xero
    invalid_grants: int = 0
    errors: list[str] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.refreshes == [1] * self.rounds and self.invalid_grants == 0 and not self.errors


def token_race(concurrency: int = 10, rounds: int = 5) -> RaceResult:
    """`concurrency` invocations (each its own secret cache, token manager and client, as separate Lambda
    containers) call Xero at once with the stored access token inside the refresh margin (odd rounds) or
    already expired (even rounds). Exactly one of them may refresh, and nobody may get invalid_grant."""
    started = time.perf_counter()
    h = Harness(Tenant(), None, 0)
    result = RaceResult(concurrency, rounds)
    sim = h.sandbox.xero
    stack = h.local.stack
    secret_id = stack.physical["XeroSecret"]
    state = h.rt.state
    config = h.rt.config
    invalid_before = sim.invalid_grants
    try:
        for number in range(rounds):
            stored = SecretStore(stack.client("secretsmanager")).read(secret_id, fresh=True)["token_set"]
            target = float(stored["expires_at"]) + (10 if number % 2 else -60)  # expired, or 60 s left
            h.clock.advance(target - h.clock.time())
            refreshes = sim.token_refreshes
            barrier = threading.Barrier(concurrency)

            def invocation(barrier: threading.Barrier = barrier, number: int = number) -> None:
                try:
                    store = SecretStore(stack.client("secretsmanager"), max_age=300)
                    # Waiters sleep for real: ten threads each advancing the one shared sandbox clock would
                    # age the refresh lease ten times faster than time passes, and let a second refresh in.
                    tokens = TokenManager(store, secret_id, state.leases, token_url=config.xero_token_url,
                                          clock=h.clock.time, sleep=time.sleep)
                    api = XeroClient(tokens.sdk_token, sim.tenant_id, api_url=config.xero_api_url,
                                     identity_url=config.xero_identity_url, sleep=h.clock.advance)
                    barrier.wait(timeout=30)
                    if api.organisation().Name != "Harbour IT Ltd":
                        raise AssertionError("wrong organisation")
                except Exception as err:
                    result.errors.append(f"round {number + 1}: {type(err).__name__}: {err}")

            threads = [threading.Thread(target=invocation) for _ in range(concurrency)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            result.refreshes.append(sim.token_refreshes - refreshes)
        result.invalid_grants = sim.invalid_grants - invalid_before
        result.calls = h.api_calls()
    finally:
        result.seconds = time.perf_counter() - started
        h.close()
    return result
