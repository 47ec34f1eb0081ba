"""The chaos world: a local deployment over the sandbox, the seeded faults and crashes it suffers, the tenant it
syncs and the person paying invoices in Xero. bench/chaos.py runs scenarios in it; see its docstring."""

from __future__ import annotations

import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any

import httpx
import moto
from boto3.dynamodb.conditions import Attr

from autoxero.autotask.client import AutotaskClient
from autoxero.autotask.limiter import LocalLimiter
from autoxero.observability import metrics
from autoxero.runtime import Runtime
from autoxero.secrets import SecretStore
from autoxero.settings import SyncSettings
from autoxero.state.idmap import IdMap
from autoxero.state.leases import Leases
from autoxero.state.ledger import Ledger
from autoxero.sync.build import build_run, execute_run
from autoxero_cli.local import LocalDeployment, with_start_date
from bench.sandbox_time import reference_cache_on
from sandbox.fixtures.builder import MANAGED, STANDARD, SUPPORT, Tenant
from sandbox.server import Sandbox

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

SETTINGS: dict[str, Any] = {"invoices": {"status": "AUTHORISED"}}  # payments need authorised invoices
SCHEDULE_SECONDS = 15 * 60  # template.yaml SyncRateMinutes default: the time between two rounds
XERO_TIMEOUT = (1.0, 0.5)  # (connect, read) seconds
AUTOTASK_TIMEOUT = httpx.Timeout(0.5, connect=0.5)
LATE = 0.8  # an injected "timeout" holds the request this long: longer than either client's read timeout
PLANTED_PATH = "*/Invoices"  # the planted lost answer: the first PUT of invoices or bills
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
        self.passed_through = 0
        self.planted_fired = False  # "latency" faults reach the simulator (and its call log)

    def _injectors(self) -> list[tuple[str, Any]]:
        return [("xero", self.sandbox.xero.faults), ("autotask", self.sandbox.autotask.faults)]

    def _collect(self) -> None:
        for name, injector in self._injectors():
            for rule in injector._rules:
                if rule.fired:
                    if rule.nth == 1 and rule.path == PLANTED_PATH:
                        self.planted_fired = True
                    label = f"{rule.status}" if rule.kind == "status" else rule.kind
                    self.fired[f"{name} {label}"] += rule.fired
                    if rule.kind == "latency":
                        self.passed_through += rule.fired
                rule.fired = 0

    def on(self) -> None:
        """Seeded random faults; until it has happened once, also Xero's answer to the first batch of invoices
        (or bills) is lost — processed, then answered after the client gave up — so that batch is sent twice."""
        self._collect()
        self.phase += 1
        planted = [{"kind": "latency", "latency": LATE, "method": "PUT", "path": PLANTED_PATH, "nth": 1,
                    "times": 1}] if not self.planted_fired else []
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

    def next_schedule(self) -> None:
        """Time passes until the next scheduled run. Only once both simulators have finished what they were
        sent: a request whose answer was lost (held 0.8 s) is processed 0.8 s later in real life, not after
        the schedule's 15 minutes, when Xero no longer holds its Idempotency-Key (6 minutes)."""
        if not self.sandbox.wait_idle():
            raise RuntimeError("a simulator is still serving a request after 30 s")
        self.clock.advance(SCHEDULE_SECONDS)

    def reference_cache_on_sandbox_time(self) -> AbstractContextManager[None]:
        return reference_cache_on(self.clock.time)

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
