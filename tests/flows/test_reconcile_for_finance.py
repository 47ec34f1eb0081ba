"""The reconciliation for finance, against the sandbox: money per currency read back from both simulators'
own state, each invoice in exactly one place, problems first with customer, date, amount and paid status,
bills reconciled, times in the organisation's zone, and an HTML report a finance person can use."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from autoxero.sync.build import build_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero.sync.purchase_orders import run_purchase_orders
from autoxero.sync.reconcile import _dated_documents, reconcile
from autoxero_cli.report import markdown, write_report
from sandbox.fixtures.builder import NO_EXTERNAL, STANDARD, SUPPORT
from tests.flows.test_invoice_rules import run, settle, xero
from tests.flows.test_purchase_orders_and_payments import vendor_tenant

AUD = 2  # the tenant's Currencies id


@pytest.fixture
def reconciled(local):
    tenant = (vendor_tenant()
              .company(1, "Acme Ltd").contact(11, 1, "Ana", "Lee", billingContact=True)
              .company(2, "Wallaby Pty", currencyID=AUD, taxRegionID=2).contact(21, 2, "Wes", "Ng", billingContact=True)
              .invoice(4001, 1, "INV-4001", [(1, 100, STANDARD, SUPPORT)])
              .invoice(4002, 2, "INV-4002", [(2, 50, STANDARD, SUPPORT)], taxRegionID=2, taxRegionName="Overseas")
              .invoice(4003, 1, "INV-4003", [(1, 70, STANDARD, NO_EXTERNAL)])       # held: account 999 unknown
              .invoice(4004, 1, "INV-4004", [(1, 30, STANDARD, SUPPORT)])           # skipped by a person
              .invoice(4005, 1, "INV-4005", [(1, 20, STANDARD, SUPPORT)],           # stamped before autoxero
                       webServiceDate="2026-10-05T00:00:00Z"))
    rt = settle(local, tenant, {"invoices": {"status": "AUTHORISED",
                                             "account_by_billing_code": {str(NO_EXTERNAL): "999"}}})
    rt.state.attention.skip("invoices", 4004, "entered in Xero by hand", "ann")
    for flow, body in (("contacts", run_contacts), ("invoices", run_invoices),
                       ("purchase_orders", run_purchase_orders)):
        run(rt, flow, body)
    local.sandbox.autotask.touch("Invoices", 4001, {"paidDate": "2026-11-20T00:00:00Z"})  # paid only in Autotask
    return rt, reconcile(build_run(rt, "reconcile", None, True))


def test_each_invoice_is_in_exactly_one_place(local, reconciled):
    _, rec = reconciled
    places = {"problem": [r.number for r in rec.problems if r.kind != "bill"],
              "agrees": [r.number for r in rec.agreements], "held": [r.number for r in rec.explained],
              "skipped": [r.number for r in rec.skipped], "exported before": [r.number for r in rec.exported_before]}
    assert places == {"problem": ["INV-4001"], "agrees": ["INV-4002"], "held": ["INV-4003"],
                      "skipped": ["INV-4004"], "exported before": ["INV-4005"]}
    seen = Counter(n for numbers in places.values() for n in numbers)
    assert set(seen.values()) == {1} and len(seen) == len(local.sandbox.autotask.state("Invoices"))


def test_money_per_currency_is_what_both_systems_hold(local, reconciled):
    _, rec = reconciled
    companies = {c["id"]: c for c in local.sandbox.autotask.state("Companies")}
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in local.sandbox.autotask.state("Invoices"):
        currency = "AUD" if companies[invoice["companyID"]].get("currencyID") == AUD else "NZD"
        invoiced[currency] += Decimal(str(invoice["invoiceTotal"]))
    in_xero: dict[str, Decimal] = defaultdict(Decimal)
    due: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in xero(local, "Invoices"):
        if invoice["Type"] == "ACCREC":
            in_xero[invoice.get("CurrencyCode") or "NZD"] += Decimal(str(invoice["Total"]))
            due[invoice.get("CurrencyCode") or "NZD"] += Decimal(str(invoice["AmountDue"]))
    totals = rec.totals()
    assert set(totals) == {"NZD", "AUD"}
    for currency, money in totals.items():
        assert money.invoiced_in_autotask == invoiced[currency]
        assert money.in_xero == in_xero[currency] and money.outstanding == due[currency]
    nzd = totals["NZD"]
    assert nzd.held == Decimal("80.50") and nzd.skipped == Decimal("34.50") and nzd.exported_before == Decimal("23.00")
    assert nzd.differing == Decimal("115.00")  # INV-4001, paid in Autotask only
    assert nzd.invoices == 4 and totals["AUD"].invoices == 1


def test_problems_say_who_when_how_much_and_paid_and_bills_are_reconciled(local, reconciled):
    _, rec = reconciled
    [problem] = [r for r in rec.problems if r.number == "INV-4001"]
    assert (problem.issue, problem.customer, str(problem.date), problem.autotask_paid, problem.xero_paid) == (
        "paid_differs", "Acme Ltd", "2026-11-01", True, False)
    [held] = rec.explained
    assert "account 999" in held.note  # what the person is told, on the held row itself
    assert rec.organisation == "Harbour IT Ltd"
    [bill] = rec.purchases
    [in_xero] = [b for b in xero(local, "Invoices") if b["Type"] == "ACCPAY"]
    assert (bill.number, bill.issue, bill.customer, bill.xero_id) == ("PO-8000", None, "Ingram Micro NZ",
                                                                       in_xero["InvoiceID"])
    assert bill.xero_total == Decimal(str(in_xero["SubTotal"])) == bill.autotask_total.quantize(Decimal("0.01"))


def test_times_are_in_the_organisation_zone(reconciled):
    _, rec = reconciled
    assert rec.zone == "Pacific/Auckland"  # the sandbox organisation's Timezone is NEWZEALANDSTANDARDTIME
    assert rec.generated_at is not None and rec.generated_at.tzinfo is not None
    assert rec.generated_at.utcoffset().total_seconds() in (12 * 3600, 13 * 3600)


def test_the_html_report_reads_well(local, reconciled, tmp_path):
    rt, rec = reconciled
    write_report(rec, {}, rt.state.attention.list(), tmp_path, customer="Harbour IT Ltd")
    page = (tmp_path / "reconciliation.html").read_text()
    assert page.index("<h2>Money</h2>") < page.index("<h2>Problems</h2>") < page.index("<h2>In agreement</h2>")
    [acme] = [i for i in xero(local, "Invoices") if i.get("InvoiceNumber") == "INV-4001"]
    bad = re.search(r'<tr class="bad"><td>INV-4001</td>.*?</tr>', page, re.S)
    assert bad, "the problem row is highlighted"
    assert f"redirecturl=/AccountsReceivable/View.aspx?InvoiceID={acme['InvoiceID']}" in bad.group(0)
    assert "shortcode=" in bad.group(0)
    assert '<td class="num">115.00</td>' in bad.group(0)  # amounts right-aligned
    assert "by number, INV-4005." in page
    text = markdown(rec, {}, [])
    assert text.index("## Money") < text.index("## Problems") < text.index("## In agreement")


def test_the_console_page_shows_the_same_reconciliation(local, reconciled):
    from autoxero.console.web import render

    _, rec = reconciled
    page = render("reconciliation.html", result=rec, person=None, pages=[], path="/console/reconciliation",
                  csrf="", customer="Harbour IT Ltd")
    assert '<a href="/console/invoices/4001">INV-4001</a>' in page and "<h2>Money</h2>" in page


def test_a_linked_invoice_redated_before_the_period_in_xero_is_still_found(local, reconciled):
    """The period's documents are read by date; a linked one a person redated earlier is read by its id, not
    reported as gone."""
    rt, _ = reconciled
    first = dt.date.fromisoformat(min(i["invoiceDateTime"][:10] for i in local.sandbox.autotask.state("Invoices")))
    settings, version = rt.state.settings.load()
    period = settings.model_copy(update={"invoices": settings.invoices.model_copy(update={"start_date": first})})
    rt.state.settings.save(period, version)  # the period starts at the first invoice: 2025 is before it
    [doc] = [i for i in xero(local, "Invoices") if i.get("InvoiceNumber") == "INV-4002"]
    [outcome] = rt.xero_client().update_invoices([{"InvoiceID": doc["InvoiceID"], "Date": "2025-06-30"}])
    assert outcome.ok, outcome
    [redated] = [i for i in xero(local, "Invoices") if i.get("InvoiceNumber") == "INV-4002"]
    assert "2025-06-30" in str(redated.get("DateString") or redated.get("Date"))
    rec = reconcile(build_run(rt, "reconcile", None, True))
    assert [r.number for r in rec.agreements] == ["INV-4002"]
    assert "INV-4002" not in [r.number for r in rec.problems]


def test_linked_documents_xero_has_not_are_looked_up_as_invoices_then_credit_notes(local, reconciled):
    rt, _ = reconciled
    unknown = {str(uuid.uuid4()) for _ in range(30)}  # two where-filter calls' worth of credit note ids
    before = local.sandbox.xero.calls.snapshot()["total"]
    run = build_run(rt, "reconcile", None, True)
    found = _dated_documents(run, "ACCREC", "ACCRECCREDIT", start=dt.date(2999, 1, 1), base="AUD", linked=unknown)
    assert found == {}
    assert local.sandbox.xero.calls.snapshot()["total"] - before == 2 + 1 + 2  # period reads, by id, by where


@pytest.mark.parametrize("target", ["bill", "purchase_order"])
def test_a_bill_or_purchase_order_redated_before_its_order_in_xero_is_still_found(local, target):
    """Xero's bills (or purchase orders) are read from the due orders' first date; a linked one a person
    redated earlier is read by its id, not reported as missing."""
    rt = settle(local, vendor_tenant(), {"purchase_orders": {"target": target}})
    for flow, body in (("contacts", run_contacts), ("purchase_orders", run_purchase_orders)):
        run(rt, flow, body)
    client = rt.xero_client()
    if target == "bill":
        [doc] = [b for b in xero(local, "Invoices") if b["Type"] == "ACCPAY"]
        [outcome] = client.update_invoices([{"InvoiceID": doc["InvoiceID"], "Date": "2025-06-30"}])
    else:
        [doc] = xero(local, "PurchaseOrders")
        [outcome] = client.update_purchase_orders([{"PurchaseOrderID": doc["PurchaseOrderID"], "Date": "2025-06-30"}])
    assert outcome.ok, outcome
    [purchase] = reconcile(build_run(rt, "reconcile", None, True)).purchases
    assert (purchase.number, purchase.kind, purchase.xero_id) == ("PO-8000", target, doc.get("InvoiceID") or doc[
        "PurchaseOrderID"])
    # the order's 4-place unit cost (4.9565) is kept by Xero to 2 places on a purchase order: still in agreement
    assert (purchase.issue, purchase.xero_status, purchase.xero_total) == (None, "DRAFT", purchase.autotask_total)
