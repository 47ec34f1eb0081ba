"""Chaos: every flow under injected faults and crashes, rerun until the system settles, then checked.

Per seed, a tenant with N invoices (1-3 lines, a few negative ones that become credit notes, a few whose
number another Xero invoice already has), purchase orders, and payments applied in Xero between rounds.
Both simulators fail 10 % of requests (seeded): 429 (Xero: Retry-After + X-Rate-Limit-Problem minute),
5xx, timeouts (the request answered after the client's read timeout, i.e. processed with its answer lost,
or never answered) and dropped connections. The process "dies" at random points (CrashInjected, raised
from the id map's writes - write-ahead `mark_pending`, `record[_many]` -, `Ledger.append_many` and
Autotask PATCH: before, part-way through a batch, or after the real work), like a Lambda stopping between
Xero's (or Autotask's) answer and the state write. A crash ends the whole run; the next run gets a new
runtime, as a new Lambda container would (the run's lease is released by `execute`'s `finally` on the way
out; a Lambda that really died would leave it to expire, which only delays the next run).

A round runs contacts, invoices, purchase orders and payments once each, as their schedules would; the
sandbox clock then moves on one schedule period (15 minutes). Rounds repeat with chaos on until one
completes with no crash, no aborted run and no early stop (at least 3 rounds, at most 20), then with chaos
off until a round completes and changes nothing (in Xero, in Autotask or in the id map): the system has
settled. At most 30 rounds in all. Then five checks: no duplicate in Xero, nothing missing, every total
equal to the cent, every paidDate right, nothing left pending in the id map.

Waits (Retry-After, back-off, low headroom, lease waits) advance the sandbox clock; nothing sleeps for
real except the injected timeouts themselves (a read timeout of 0.5 s is real time). Xero tokens and the
Autotask reference-data cache age on the sandbox clock too, as they would between real scheduled runs.

The token race: 10 concurrent invocations with an access token at (or past) its expiry, 5 times: each
time exactly one refresh at Xero and no invalid_grant.

    python -m bench.chaos [--seeds 20] [--invoices 1000]
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import moto
from boto3.dynamodb.conditions import Attr

from autoxero.autotask import models as at
from autoxero.autotask.client import AutotaskClient
from autoxero.autotask.limiter import LocalLimiter
from autoxero.observability import metrics
from autoxero.runtime import Runtime
from autoxero.secrets import SecretStore
from autoxero.settings import SyncSettings
from autoxero.state.idmap import IdMap
from autoxero.state.leases import LeaseBusy, Leases
from autoxero.state.ledger import Ledger
from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero.sync.payments import run_payments
from autoxero.sync.purchase_orders import run_purchase_orders
from autoxero.xero.client import XeroClient
from autoxero.xero.tokens import TokenManager
from autoxero_cli.local import LocalDeployment, with_start_date
from bench import chaos_mutants
from bench.chaos_truth import INTERNAL_CHECKS, TRUTH_CHECKS, Planted
from bench.chaos_truth import check as truth_check
from sandbox.fixtures.builder import MANAGED, STANDARD, SUPPORT, Tenant
from sandbox.server import Sandbox

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

FLOWS: list[tuple[str, Callable[[Any], None]]] = [
    ("contacts", run_contacts), ("invoices", run_invoices), ("purchase_orders", run_purchase_orders),
    ("payments", run_payments)]
SETTINGS: dict[str, Any] = {"invoices": {"status": "AUTHORISED"}}  # payments need authorised invoices
NUMBERING = ("autotask", "xero")  # odd seeds: Autotask numbers; even seeds: Xero numbers, Autotask's in Reference
RENUMBER_SHARE = 0.3  # after each of the first two chaos rounds, this share of unstamped invoices is renumbered
SCHEDULE_SECONDS = 15 * 60  # template.yaml SyncRateMinutes default: the time between two rounds
XERO_TIMEOUT = (1.0, 0.5)  # (connect, read) seconds
AUTOTASK_TIMEOUT = httpx.Timeout(0.5, connect=0.5)
LATE = 0.8  # an injected "timeout" holds the request this long: longer than either client's read timeout
BANK = "090"  # the demo organisation's bank account
CLASH_CONTACT = "Someone Else Ltd"


class CrashInjected(BaseException):
    """The Lambda died here. A BaseException, so that no `except Exception` in the product can swallow it."""


# ----------------------------------------------------------------------------- faults


def _mix(total: float, xero: bool) -> list[tuple[float, dict[str, Any]]]:
    """(share of all requests, rule) — 429 25 %, 5xx 25 %, timeouts 25 %, dropped connections 25 %."""
    quarter = total / 4
    if xero:
        throttled = {"kind": "status", "status": 429, "body": {},
                     "headers": {"Retry-After": "2", "X-Rate-Limit-Problem": "minute"}}
        errors = [{"kind": "status", "status": s} for s in (500, 502, 503, 504)]
    else:
        throttled = {"kind": "status", "status": 429, "headers": {"Retry-After": "1"},
                     "body": {"errors": ["Too many requests; retry later."]}}
        # A transient 500 is ASP.NET Web API's answer to an unhandled exception; a 500 with Autotask's own
        # {"errors": [...]} is a refusal of the request, which repeats on every retry: not a random fault.
        errors = [{"kind": "status", "status": 500, "body": {"Message": "An error has occurred."}},
                  {"kind": "status", "status": 503}]
    mix = [(quarter, throttled)]
    mix += [(quarter / len(errors), rule) for rule in errors]
    # Late: the request is processed after the client gave up (the answer is lost). Timeout: never answered.
    mix += [(quarter / 2, {"kind": "latency", "latency": LATE}), (quarter / 2, {"kind": "timeout", "latency": LATE})]
    mix += [(quarter, {"kind": "drop"})]
    return mix


def _rules(total: float, xero: bool) -> list[dict[str, Any]]:
    """The injector tries rules in order, each with its own draw: conditional probabilities give each rule
    its share exactly, and `total` of all requests faulted."""
    rules, left = [], 1.0
    for share, rule in _mix(total, xero):
        rules.append({**rule, "probability": share / left})
        left -= share
    return rules


class Faults:
    """Seeded fault rules on both simulators, with a tally of what fired (kept across reconfigurations)."""

    def __init__(self, sandbox: Sandbox, rate: float, seed: int) -> None:
        self.sandbox = sandbox
        self.rate = rate
        self.seed = seed
        self.phase = 0
        self.fired: Counter[str] = Counter()
        self.passed_through = 0  # "latency" faults reach the simulator (and its call log)

    def _injectors(self) -> list[tuple[str, Any]]:
        return [("xero", self.sandbox.xero.faults), ("autotask", self.sandbox.autotask.faults)]

    def _collect(self) -> None:
        for name, injector in self._injectors():
            for rule in injector._rules:
                if rule.fired:
                    label = f"{rule.status}" if rule.kind == "status" else rule.kind
                    self.fired[f"{name} {label}"] += rule.fired
                    if rule.kind == "latency":
                        self.passed_through += rule.fired
                rule.fired = 0

    def on(self, plant: bool = False) -> None:
        """Seeded random faults; with `plant`, also Xero's answer to the first sales-invoice batch is lost
        (processed, then answered after the client gave up), so that batch is always sent twice."""
        self._collect()
        self.phase += 1
        planted = [{"kind": "latency", "latency": LATE, "method": "PUT", "path": "*/Invoices", "nth": 1,
                    "times": 1}] if plant else []
        for offset, (name, injector) in enumerate(self._injectors()):
            rules = (planted if name == "xero" else []) + _rules(self.rate, name == "xero")
            injector.configure(rules, seed=self.seed * 1000 + self.phase * 10 + offset)

    def off(self) -> None:
        self._collect()
        for _, injector in self._injectors():
            injector.clear()

    @property
    def total(self) -> int:
        self._collect()
        return sum(self.fired.values())


# ----------------------------------------------------------------------------- crashes

# (class, method, probability per call). The state writes come right after Xero's (or Autotask's) answer;
# PATCH is called once per invoice, so it gets a smaller share.
CRASH_POINTS: list[tuple[type, str, float]] = [
    (IdMap, "mark_pending", 0.004), (IdMap, "record", 0.01), (IdMap, "record_many", 0.08),
    (Ledger, "append_many", 0.05),
    (AutotaskClient, "patch", 0.004),
    # The refreshed Xero token set is stored here: a death before it loses the rotated refresh token.
    (SecretStore, "write", 0.1)]
HARD_DEATH_SHARE = 0.3  # of crashes, the Lambda stops dead: no `finally`, its leases left to expire


class Crashes:
    """Wraps the crash points; while `enabled`, each call dies with its probability (seeded): before the
    real work, part-way through a batch (a prefix written), or after it (the work done, the caller never
    told)."""

    def __init__(self, seed: int, scale: float = 1.0) -> None:
        self.rng = random.Random(seed * 31 + 7)
        self.scale = scale
        self.enabled = False
        self.hard = False  # the current death skips every `finally` (lease releases included)
        # Deaths the harness plants whatever the dice say: (point, which calls, where), each used once.
        self.planted: list[tuple[str, Callable[[tuple[Any, ...]], bool], str]] = []
        self.count: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.count.values())

    def _wrap(self, name: str, original: Callable[..., Any], probability: float) -> Callable[..., Any]:
        plan = self
        batch = name.endswith("_many")

        def crashing(obj: Any, *args: Any, **kwargs: Any) -> Any:
            plant = next((p for p in plan.planted if p[0] == name and p[1](args)), None) if plan.enabled else None
            if plant is not None:
                plan.planted.remove(plant)
                where = plant[2]
            elif not plan.enabled or plan.rng.random() >= probability * plan.scale:
                return original(obj, *args, **kwargs)
            else:
                where = plan.rng.choice(("before", "part-way", "after") if batch else ("before", "after"))
            if where == "part-way":
                items = list(args[-1])
                if len(items) < 2:
                    where = "before"
                else:
                    original(obj, *args[:-1], items[:plan.rng.randint(1, len(items) - 1)], **kwargs)
            if where == "after":
                original(obj, *args, **kwargs)
            plan.hard = plan.rng.random() < HARD_DEATH_SHARE
            plan.count[f"{name} {where}{' (leases left)' if plan.hard else ''}"] += 1
            raise CrashInjected(f"{name}: died {where}")

        return crashing

    def _releasing(self, original: Callable[..., bool]) -> Callable[..., bool]:
        plan = self

        def release(leases: Leases, name: str, holder: str) -> bool:
            return False if plan.hard else original(leases, name, holder)

        return release

    @contextmanager
    def installed(self) -> Iterator[Crashes]:
        originals = [(cls, name, cls.__dict__[name]) for cls, name, _ in CRASH_POINTS]
        originals.append((Leases, "release", Leases.__dict__["release"]))
        for cls, name, probability in CRASH_POINTS:
            setattr(cls, name, self._wrap(name, cls.__dict__[name], probability))
        Leases.release = self._releasing(Leases.__dict__["release"])  # type: ignore[method-assign]
        try:
            yield self
        finally:
            for cls, name, original in originals:
                setattr(cls, name, original)


# ----------------------------------------------------------------------------- the deployment


class Harness:
    """A sandbox + moto + local deployment, with short client timeouts and waits on the sandbox clock."""

    def __init__(self, data: Tenant, settings: dict[str, Any] | None, seed: int, *,
                 xero_limits: dict[str, int] | None = None, autotask_limits: dict[str, int] | None = None,
                 xero_options: dict[str, Any] | None = None, autotask_options: dict[str, Any] | None = None,
                 run_options: dict[str, Any] | None = None) -> None:
        self.mock = moto.mock_aws()
        self.mock.start()
        self.sandbox = Sandbox.start(data.data, xero_limits=xero_limits, autotask_limits=autotask_limits)
        # uvicorn (re)configures its loggers when a server starts; injected drops would print tracebacks.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        self.clock = self.sandbox.clock
        advance = self.clock.advance
        self.local = LocalDeployment.create(self.sandbox, None, options={
            "autotask": {"limiter": LocalLimiter(), "sleep": advance, "rng": random.Random(seed),
                         "clock": self.clock.time,
                         **(autotask_options or {})},
            "xero": {"sleep": advance, "rng": random.Random(seed + 1), **(xero_options or {})},
            "run": run_options or {}, "tokens": {"clock": self.clock.time, "sleep": advance}})
        self.local.connect_xero_directly()
        if settings:
            self.local.runtime().state.settings.save(SyncSettings.model_validate(with_start_date(settings)), 0)
        self.local.go_live("chaos")
        self.rt = self.container()

    def container(self) -> Runtime:
        """A fresh runtime, as a new Lambda container would build it; tokens and leases live on the sandbox clock
        (a lease left by a run that died expires as the rounds go by)."""
        rt = self.local.runtime()
        rt.state.table.clock = self.clock.time
        return rt

    @contextmanager
    def reference_cache_on_sandbox_time(self) -> Iterator[None]:
        """The Autotask reference data is cached in the table for an hour of `time.time()`. Rounds here are 15
        minutes of sandbox time apart but a second or so of wall time: let that cache age on the sandbox clock,
        as it would between real scheduled runs."""
        from autoxero.sync import reference

        class SandboxTime:
            time = staticmethod(self.clock.time)

        original = reference.time
        reference.time = SandboxTime  # type: ignore[assignment]
        try:
            yield
        finally:
            reference.time = original

    def run(self, flow: str, body: Callable[[Any], None], context: Any = None) -> dict[str, Any]:
        try:
            return execute_run(self.rt, build_run(self.rt, flow, context, False), body)
        finally:
            metrics.clear_metrics()  # no Lambda flushes them here; a full buffer would print itself

    def map_items(self, **conditions: Any) -> list[dict[str, Any]]:
        table = self.rt.state.table.table
        expression = Attr("pk").begins_with("MAP#")
        for key, value in conditions.items():
            expression = expression & Attr(key).eq(value)
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"FilterExpression": expression, "ConsistentRead": True}
        while True:
            page = table.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def api_calls(self) -> int:
        return int(self.sandbox.xero.calls.snapshot()["total"]) + int(self.sandbox.autotask.calls.snapshot()["total"])

    def close(self) -> None:
        self.sandbox.stop()
        self.mock.stop()


# ----------------------------------------------------------------------------- the tenant


def _recent(days: float = 2) -> str:
    import datetime as dt

    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def chaos_tenant(seed: int, invoices: int) -> tuple[Tenant, int]:
    """N invoices over N/20 customers (3 % negative, 0.5 % clashing with a number Xero already has) and
    N/25 purchase orders over two vendors. Returns the tenant and the number of purchase orders."""
    rng = random.Random(seed)
    data = Tenant().xero_contact(CLASH_CONTACT)
    companies = max(4, invoices // 20)
    for c in range(companies):
        data.company(100_000 + c, f"Chaos Customer {c:04d} Ltd")
    for v in range(2):
        data.company(90_000 + v, f"Chaos Vendor {v} Ltd", companyType=7)
    signs = [-1 if rng.random() < 0.03 else 1 for _ in range(invoices)]
    # A clash is an invoice (not a credit note: Xero numbers those apart) whose number Xero already has.
    clashes = set(rng.sample([i for i in range(invoices) if signs[i] > 0], k=max(1, invoices // 200)))
    for i in range(invoices):
        number = f"CH{seed:02d}-{i:05d}"
        sign = signs[i]
        lines = [(sign * rng.choice((1, 1, 2, 3, 0.5, 1.5)), Decimal(rng.randint(500, 99_999)) / 100, STANDARD,
                  rng.choice((SUPPORT, MANAGED))) for _ in range(rng.randint(1, 3))]
        data.invoice(200_000 + i, 100_000 + rng.randrange(companies), number, lines)
        if i in clashes:
            data.xero_invoice(number, CLASH_CONTACT, 42.0)
    orders = max(3, invoices // 25)
    recent = _recent()
    for p in range(orders):
        data.at["PurchaseOrders"].append({"id": 300_000 + p, "vendorID": 90_000 + p % 2, "status": 2,
                                          "purchaseOrderNumber": f"PO{seed:02d}-{p:04d}",
                                          "createDateTime": recent, "submitDateTime": recent,
                                          "freight": rng.choice((0, 10, 25))})
        for n in range(rng.randint(1, 2)):
            data.at["PurchaseOrderItems"].append({"id": 400_000 + p * 10 + n, "orderID": 300_000 + p,
                                                  "quantity": rng.randint(1, 4),
                                                  "unitCost": float(Decimal(rng.randint(100, 50_000)) / 100),
                                                  "memo": "Parts"})
    return data, orders


# ----------------------------------------------------------------------------- payments in Xero


class Payer:
    """A person in Xero applying payments: half the new invoices paid in full, some part-paid (and half of
    those paid up later), on varying dates. Applied with faults suspended, through the Xero API."""

    def __init__(self, h: Harness, seed: int, exclude: set[str]) -> None:
        self.h = h
        self.rng = random.Random(seed * 17 + 5)
        self.exclude = set(exclude)
        self.seen: set[str] = set(exclude)
        self.part_paid: set[str] = set()
        self.calls = 0
        self.payments = 0

    def _date(self) -> str:
        return f"2026-11-{self.rng.randint(10, 25):02d}"

    def apply(self, everything: bool = False) -> None:
        """The round's payments; `everything`: every invoice still owed is paid in full (late payments)."""
        payments: list[dict[str, Any]] = []
        for invoice in self.h.sandbox.xero.state("Invoices"):
            xero_id = invoice["InvoiceID"]
            if invoice["Type"] != "ACCREC" or invoice["Status"] != "AUTHORISED":
                continue
            due = Decimal(str(invoice["AmountDue"]))
            if everything:
                if xero_id not in self.exclude and due > 0:
                    payments.append(self._payment(xero_id, due))
                continue
            if xero_id in self.part_paid:
                self.part_paid.discard(xero_id)
                if self.rng.random() < 0.5:
                    payments.append(self._payment(xero_id, due))
                continue
            if xero_id in self.seen:
                continue
            self.seen.add(xero_id)
            roll = self.rng.random()
            if roll < 0.5:
                payments.append(self._payment(xero_id, due))
            elif roll < 0.65 and due >= Decimal("0.02"):
                payments.append(self._payment(xero_id, (due / 2).quantize(Decimal("0.01"))))
                self.part_paid.add(xero_id)
        token = self.h.sandbox.xero.issue_token_set(scope="offline_access accounting.transactions")
        with httpx.Client(base_url=f"{self.h.sandbox.xero_url}/api.xro/2.0", timeout=30, headers={
                "Authorization": f"Bearer {token['access_token']}",
                "xero-tenant-id": self.h.sandbox.xero.tenant_id}) as api:
            for start in range(0, len(payments), 50):
                chunk = payments[start:start + 50]
                while True:
                    self.calls += 1
                    answer = api.put("/Payments", params={"summarizeErrors": "false"}, json={"Payments": chunk})
                    if answer.status_code != 429:
                        break
                    self.h.clock.advance(float(answer.headers.get("Retry-After", "60")))
                if answer.status_code != 200:
                    raise RuntimeError(f"applying payments failed: {answer.status_code} {answer.text[:300]}")
                self.payments += len(chunk)

    def _payment(self, xero_id: str, amount: Decimal) -> dict[str, Any]:
        return {"Invoice": {"InvoiceID": xero_id}, "Account": {"Code": BANK}, "Date": self._date(),
                "Amount": str(amount)}


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
        if invoice.get("webServiceDate") or invoice["id"] in planted.impossible or rng.random() >= RENUMBER_SHARE:
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
        h.clock.advance(SCHEDULE_SECONDS)
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
                faults.on(plant=result.chaos_rounds == 0)
                crashes.enabled = True
                result.rounds += 1
                result.chaos_rounds += 1
                complete = _round(h, result, crashes, planted, overlap=not result.overlaps)
                faults.off()
                crashes.enabled = False
                if result.chaos_rounds <= 2:
                    result.renumbered += _renumber(h, planted, rng)
                payer.apply()
                h.clock.advance(SCHEDULE_SECONDS)
            left = max_rounds - result.rounds
            if _settle(h, result, crashes, planted, left // 2):
                payer.apply(everything=True)  # late payments: whatever is still owed is paid now
                h.clock.advance(SCHEDULE_SECONDS)
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
