"""Benchmarks of the flows against the sandbox: API calls per 1,000 records, against the theoretical
minimum and against a naive one-call-per-record integration run on the same data.

Waits (Xero's Retry-After, low headroom) advance the sandbox clock instead of sleeping, so the enforced
limits (60 calls a minute, 5 in flight) cost no wall time; elapsed sandbox time is reported.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import moto

from autoxero.autotask.limiter import LocalLimiter
from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero.sync.payments import invoice_of, sync_invoice_ids
from autoxero.sync.purchase_orders import run_purchase_orders
from autoxero_cli.local import LocalDeployment, with_start_date
from sandbox.fixtures.builder import NO_EXTERNAL, STANDARD, SUPPORT, Tenant
from sandbox.server import Sandbox

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"  # the bench prints tables, not logs


@dataclass
class Row:
    name: str
    records: int
    xero_calls: int
    autotask_calls: int
    xero_minimum: int
    autotask_minimum: int
    naive_xero: int | None = None
    naive_autotask: int | None = None
    sandbox_seconds: float | None = None
    note: str = ""


LAPTOP = 29684001  # a demo product whose SKU is an item in Xero
CHARGE_EVERY = 5   # every 5th line sells a product through a ticket charge (the route to its SKU)


def tenant(invoices: int, companies: int = 100, lines: int = 10, history: int = 0) -> Tenant:
    """`companies` customers, `invoices` new invoices of `lines` lines, `history` already exported."""
    data = Tenant()
    for c in range(companies):
        data.company(100_000 + c, f"Bench Customer {c:04d} Ltd")
    charge = 600_000
    for i in range(invoices + history):
        rows: list[tuple[Any, ...]] = []
        for n in range(lines):
            if n % CHARGE_EVERY == CHARGE_EVERY - 1:
                charge += 1
                data.charge("TicketCharges", charge, LAPTOP, ticketID=charge)
                rows.append((1, 1899, STANDARD, SUPPORT, {"ticketChargeID": charge, "billingItemType": 6}))
            else:
                rows.append((1 + (n % 3), 10 + n, STANDARD, SUPPORT))
        data.invoice(200_000 + i, 100_000 + i % companies, f"B-{i:06d}", rows,
                     **({"webServiceDate": "2026-10-01T00:00:00Z"} if i < history else {}))
    return data


class Bench:
    """One sandbox + moto + deployment for a scenario."""

    def __init__(self, data: Tenant, settings: dict[str, Any] | None = None) -> None:
        self.mock = moto.mock_aws()
        self.mock.start()
        self.sandbox = Sandbox.start(data.data)
        advance: Callable[[float], None] = self.sandbox.clock.advance
        self.local = LocalDeployment.create(self.sandbox, None, options={
            "autotask": {"limiter": LocalLimiter(), "sleep": advance}, "xero": {"sleep": advance}})
        self.local.connect_xero_directly()
        self.rt = self.local.runtime()
        if settings:
            from autoxero.settings import SyncSettings

            self.rt.state.settings.save(SyncSettings.model_validate(with_start_date(settings)), 0)
        self.local.go_live("bench")
        self.rt = self.local.runtime()

    def run(self, flow: str, body: Callable[[Any], None]) -> dict[str, Any]:
        return execute_run(self.rt, build_run(self.rt, flow, None, False), body)

    def close(self) -> None:
        self.sandbox.stop()
        self.mock.stop()


def invoices_benchmark(count: int = 1000) -> list[Row]:
    bench = Bench(tenant(count))
    try:
        started = bench.sandbox.clock.time()
        contacts = bench.run("contacts", run_contacts)
        invoices = bench.run("invoices", run_invoices)
        elapsed = bench.sandbox.clock.time() - started
        rows = [Row("contacts: 100 new companies", 100, contacts["xero_calls"], contacts["autotask_calls"],
                    math.ceil(100 / 50), 2, naive_xero=200, naive_autotask=200,
                    note="naive: a name lookup and a create per company; a read of company and contacts"),
                Row(f"invoices: {count} new x 10 lines", count, invoices["xero_calls"], invoices["autotask_calls"],
                    math.ceil(count / 50), math.ceil(count / 500) + math.ceil(count * 10 / 500)
                    + math.ceil(count * 10 // CHARGE_EVERY / 500) + count, sandbox_seconds=elapsed,
                    note=f"2 lines in 10 bill a ticket charge (read by id, 500 a query); Autotask minimum counts "
                         f"one PATCH per invoice (webServiceDate): {count} of them")]
        naive = naive_invoices(bench, count)
        rows[1].naive_xero, rows[1].naive_autotask = naive
        return rows
    finally:
        bench.close()


def warm_invoices_benchmark(count: int = 1000) -> list[Row]:
    """The same 1,000 invoices when an earlier run (within the 6-hour TTL) left Xero's reference data in the
    table: what a stack that has been running pays per 1,000 invoices."""
    data = tenant(0, lines=10, history=count)  # exported already: the first run sends only WARM-1
    data.invoice(900_000, 100_000, "WARM-1", [(1, 10, STANDARD, SUPPORT)])
    bench = Bench(data)
    try:
        bench.run("contacts", run_contacts)
        first = bench.run("invoices", run_invoices)
        for i in range(count):  # a person clears the web service dates: 1,000 invoices to send
            bench.sandbox.autotask.touch("Invoices", 200_000 + i, {"webServiceDate": None})
        warm = bench.run("invoices", run_invoices)
        return [Row(f"invoices: {count} new x 10 lines, reference data cached", count, warm["xero_calls"],
                    warm["autotask_calls"], math.ceil(count / 50), 0,
                    note=f"an earlier run within 6 h read Xero's lists ({first['xero_calls']} calls for 1 invoice); "
                         "a new stack's first run pays 4 more (the row above): accounts, tax rates, branding themes, "
                         "organisation, each needed by the mapping, each read once per 6 h")]
    finally:
        bench.close()


def idle_benchmark() -> list[Row]:
    """Nothing changed since the last run, but four invoices wait on a person (a number Xero already has, an
    unmapped account, an unmapped tax, no lines) and 1,000 are exported: what every 15 minutes costs."""
    data = tenant(0, companies=10, lines=1, history=1000)
    data.xero_contact("Other Customer").xero_invoice("DUP-1", "Other Customer")
    data.invoice(3001, 100_000, "BAD-ACCT", [(1, 10, STANDARD, NO_EXTERNAL)])
    data.invoice(3002, 100_000, "BAD-TAX", [(1, 10, STANDARD, SUPPORT)], taxRegionName="Mars")
    data.invoice(3003, 100_001, "EMPTY-1", [])
    data.invoice(3004, 100_001, "DUP-1", [(1, 10, STANDARD, SUPPORT)])
    bench = Bench(data, {"invoices": {"default_account_code": "999", "tax": {
        "mode": "mapped", "by_region_and_category": {"New Zealand|Standard": "OUTPUT2"}}}})
    try:
        bench.run("contacts", run_contacts)
        bench.run("invoices", run_invoices)
        rows = []
        for label, hours in (("", 0), (", 7 h later (cache stale)", 7)):
            now = bench.rt.state.table.clock()
            bench.rt.state.table.clock = lambda now=now, hours=hours: now + hours * 3600
            idle = bench.run("invoices", run_invoices)
            rows.append(Row(f"invoices: idle, 4 waiting on a person{label}", 0, idle["xero_calls"],
                            idle["autotask_calls"], 0, 2,
                            note="" if hours else "Autotask: the candidates query, their lines and companies, the "
                            "voids query, ThresholdInformation; minimum: candidates and voids"))
        return rows
    finally:
        bench.close()


def naive_invoices(bench: Bench, count: int) -> tuple[int, int]:
    """A one-call-per-record integration on the same data: per invoice, read its lines and each line's charge,
    look its contact up by name, create it alone. Counted on a fresh copy of the Xero side so it creates for real."""
    from autoxero.autotask import models as at
    from autoxero.autotask.query import Query, eq
    from autoxero.xero.client import quote_where

    autotask = bench.rt.autotask_client()
    autotask.pacer = None  # a naive integration does not pace itself
    xero = bench.rt.xero_client()
    invoices = list(autotask.query_models("Invoices", at.Invoice, Query([eq("isVoided", False)])))[:count]
    before_x, before_a = sum(xero.calls.values()), autotask.total_calls
    for invoice in invoices:
        items = list(autotask.query_models("BillingItems", at.BillingItem, Query([eq("invoiceID", invoice.id)])))
        for item in items:  # each product line's charge, for its SKU
            if item.ticketChargeID:
                autotask.get("TicketCharges", item.ticketChargeID)
        company = at.Company.model_validate(autotask.get("Companies", invoice.companyID))
        [contact] = list(xero.contacts(where=f"Name=={quote_where(company.companyName)}"))[:1] or [None]
        xero.create_invoices([{"Type": "ACCREC", "InvoiceNumber": f"N-{invoice.invoiceNumber}",
                               "Contact": {"ContactID": contact.ContactID if contact else None},
                               "LineItems": [{"Description": "x", "Quantity": i.quantity, "UnitAmount": i.rate,
                                              "AccountCode": "200"} for i in items]}])
        autotask.patch("Invoices", {"id": invoice.id, "webServiceDate": "2026-11-26T00:00:00Z"})
    return sum(xero.calls.values()) - before_x, autotask.total_calls - before_a


def incremental_benchmark() -> list[Row]:
    rows = []
    for history in (1000, 10_000):
        bench = Bench(tenant(0, companies=100, lines=1, history=history))
        try:
            bench.run("contacts", run_contacts)
            quiet = bench.run("invoices", run_invoices)
            rows.append(Row(f"invoices: nothing new, {history:,} exported", 0, quiet["xero_calls"],
                            quiet["autotask_calls"], 0, 1))
        finally:
            bench.close()
    return rows


def payments_benchmark(events: int = 1000) -> list[Row]:
    data = tenant(events, companies=50, lines=1)
    bench = Bench(data, {"invoices": {"status": "AUTHORISED"}})
    try:
        bench.run("contacts", run_contacts)
        bench.run("invoices", run_invoices)
        ids = [e.xero_id for e in bench.rt.state.ids.get_many("invoice", range(200_000, 200_000 + events)).values()]
        messages = [{"source": "xero", "category": "INVOICE", "resource_id": x, "event_type": "UPDATE",
                     "event_date": "2026-11-26T00:00:00", "tenant_id": bench.sandbox.xero.tenant_id} for x in ids]
        xero_calls = autotask_calls = 0
        for start in range(0, len(messages), 50):  # the queue hands SyncPayments batches of up to 50
            summary = bench.run("payments", lambda run, chunk=messages[start:start + 50]: sync_invoice_ids(
                run, [x for m in chunk if (x := invoice_of(run, m))]))
            xero_calls += summary["xero_calls"]
            autotask_calls += summary["autotask_calls"]
        return [Row(f"payments: {events} webhook events", events, xero_calls, autotask_calls,
                    math.ceil(events / 50), math.ceil(events / 500), naive_xero=events, naive_autotask=2 * events,
                    note="naive: fetch each invoice, then read and patch each Autotask invoice")]
    finally:
        bench.close()


def purchase_orders_benchmark(count: int = 1000) -> list[Row]:
    import datetime as dt

    data = Tenant().company(90_000, "Bench Vendor Ltd", companyType=7)
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for i in range(count):
        data.at["PurchaseOrders"].append({"id": 300_000 + i, "vendorID": 90_000, "status": 2,
                                          "purchaseOrderNumber": f"PO-{i:05d}", "createDateTime": recent,
                                          "submitDateTime": recent, "freight": 10})
        data.at["PurchaseOrderItems"].append({"id": 400_000 + i, "orderID": 300_000 + i, "quantity": 2,
                                              "unitCost": 12.5, "memo": "Cable"})
    bench = Bench(data)
    try:
        summary = bench.run("purchase_orders", run_purchase_orders)
        return [Row(f"purchase orders: {count} new", count, summary["xero_calls"], summary["autotask_calls"],
                    math.ceil(count / 50), 2 * math.ceil(count / 500), naive_xero=2 * count,
                    naive_autotask=2 * count)]
    finally:
        bench.close()


def timed(function: Callable[[], list[Row]]) -> tuple[list[Row], float]:
    started = time.perf_counter()
    rows = function()
    return rows, time.perf_counter() - started


def reference_benchmark() -> list[Row]:
    """Xero calls to read the reference data one run needs (read once per run, then cached)."""
    from autoxero.sync.reference import autotask_reference, xero_reference

    bench = Bench(tenant(0, companies=1, lines=1))
    try:
        run = build_run(bench.rt, "invoices", None, True)
        for _ in range(2):  # the second use in the same run costs nothing
            ref = xero_reference(run)
            _ = (ref.accounts, ref.tax_rates, ref.item_codes, ref.tracking, ref.branding_themes, ref.currencies,
                 ref.base_currency)
            autotask_reference(run)
        return [Row("reference data for one run", 0, sum(run.xero.calls.values()), run.autotask.total_calls, 7, 0,
                    note="accounts, tax rates, items, tracking, themes, currencies, organisation; Autotask: "
                         "codes, products, taxes, templates, terms, countries, currencies, picklists")]
    finally:
        bench.close()
