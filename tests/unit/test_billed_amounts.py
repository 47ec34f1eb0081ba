"""Amounts as Autotask bills them (issue 12, item 9): 4-decimal quantity, rate and extendedPrice;
extendedPrice that is not quantity x rate; items on block-hour (prepaid) contracts with totalAmount 0.

The recorded item is contractika-org/contractika `contractika/data/at/billingitems.php` (a live BillingItems
response): quantity 3.1750, rate 100.0000, extendedPrice 386.6450, taxDollars 0.0000, totalAmount 0.0000,
contractBlockID 75. Each case is one invoice; the Xero document must total the Autotask invoice to the cent.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from autoxero.autotask import models as at
from autoxero.mapping.invoices import map_invoice, readiness
from autoxero.settings import InvoiceSettings
from tests.unit.test_invoice_totals import COMPANY, REF, XERO, xero_total

D = Decimal
CREATED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RECORDED_BLOCK_HOURS = {"quantity": D("3.1750"), "rate": D("100.0000"), "extendedPrice": D("386.6450"),
                        "taxDollars": D("0.0000"), "totalAmount": D("0.0000"), "contractBlockID": 75,
                        "taxCategoryID": 1}


def item(n: int, **fields: object) -> at.BillingItem:
    return at.BillingItem.model_validate({"id": n, "invoiceID": 1, "itemName": f"Line {n}", "description": "work",
                                         "taxCategoryID": 1, **fields})


def billed(n: int, quantity: str, rate: str, extended: str, tax: str | None = None, **fields: object
           ) -> at.BillingItem:
    """An item Autotask bills: totalAmount = extendedPrice + taxDollars (15 % GST, to the cent, unless given)."""
    ext = D(extended)
    dollars = D(tax) if tax is not None else (ext * D("0.15")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    return item(n, quantity=D(quantity), rate=D(rate), extendedPrice=ext, taxDollars=dollars,
                totalAmount=ext + dollars, **fields)


def invoice_of(items: list[at.BillingItem], total: Decimal | None = None) -> at.Invoice:
    summed = sum((i.totalAmount for i in items), D(0))
    return at.Invoice(id=1, companyID=1, invoiceNumber="INV-1", invoiceDateTime=CREATED, createDateTime=CREATED,
                      invoiceTotal=summed if total is None else total)


CASES = {
    "recorded block-hour item beside a billed one": (
        [item(1, **RECORDED_BLOCK_HOURS), billed(2, "2.0000", "165.0000", "330.0000")], None),
    "only block-hour items: a zero invoice": ([item(1, **RECORDED_BLOCK_HOURS)], None),
    "extendedPrice is not quantity x rate": ([billed(1, "3.1750", "100.0000", "386.6450")], None),
    "4-decimal quantity": ([billed(1, "1.3333", "165.0000", "219.9945")], None),
    "7-decimal prorated rate": ([billed(1, "2.0000", "24.1935484", "48.3871")], None),
    "invoiceTotal carries 4 decimals": (
        [billed(1, "3.1750", "100.0000", "386.6450"), billed(2, "1.3333", "165.0000", "219.9945")], None),
    "invoiceTotal already rounded to the cent": (
        [billed(1, "3.1750", "100.0000", "386.6450"), billed(2, "1.3333", "165.0000", "219.9945")],
        D("697.64")),
    "retainer purchase and work drawn from it": (
        [billed(1, "1.0000", "1500.0000", "1500.0000", billingItemType=13),
         item(2, quantity=D("2.5000"), rate=D("150.0000"), extendedPrice=D("375.0000"), taxDollars=D(0),
              totalAmount=D(0), billingItemType=1)], None),
    "credit with a 4-decimal amount": ([billed(1, "-1.0000", "120.1234", "-120.1234")], None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_xero_document_totals_the_autotask_invoice_to_the_cent(name):
    items, total = CASES[name]
    invoice = invoice_of(items, total)
    assert readiness(invoice, items, CREATED, 15) == "ready"  # never "incomplete" for these shapes
    plan = map_invoice(invoice, items, COMPANY, "contact-1", ref=REF, xero=XERO, settings=InvoiceSettings())
    sign = -1 if invoice.invoiceTotal < 0 else 1
    autotask_cents = (invoice.invoiceTotal * sign).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert xero_total(plan.payload) == autotask_cents
    assert abs(plan.rounding) <= D("0.02")
    assert all(D(str(li["Quantity"])) >= 0 for li in plan.payload["LineItems"])


def test_a_block_hour_line_goes_to_xero_at_zero_with_its_hours():
    invoice = invoice_of([item(1, **RECORDED_BLOCK_HOURS)])
    plan = map_invoice(invoice, [item(1, **RECORDED_BLOCK_HOURS)], COMPANY, "contact-1", ref=REF, xero=XERO,
                       settings=InvoiceSettings())
    [line] = plan.payload["LineItems"]
    assert (line["Quantity"], line["UnitAmount"]) == (D("3.1750"), D(0))


def test_a_billed_line_keeps_quantity_and_rate_when_they_give_its_amount():
    line_item = billed(1, "2.5000", "165.0000", "412.5000")
    plan = map_invoice(invoice_of([line_item]), [line_item], COMPANY, "c", ref=REF, xero=XERO,
                       settings=InvoiceSettings())
    [line] = plan.payload["LineItems"]
    assert (line["Quantity"], line["UnitAmount"]) == (D("2.5000"), D("165.0000"))


def test_a_line_whose_rate_does_not_give_its_amount_bills_the_amount():
    line_item = billed(1, "3.1750", "100.0000", "386.6450")
    plan = map_invoice(invoice_of([line_item]), [line_item], COMPANY, "c", ref=REF, xero=XERO,
                       settings=InvoiceSettings())
    [line] = plan.payload["LineItems"]
    assert (D(str(line["Quantity"])) * D(str(line["UnitAmount"]))).quantize(D("0.01"), ROUND_HALF_UP) \
        == D("386.65")


@pytest.mark.parametrize(("items_total", "invoice_total", "expected"), [
    (D("444.6418"), D("444.6418"), "ready"),
    (D("444.6418"), D("444.64"), "ready"),      # a total rounded to the cent over 4-decimal items
    (D("444.6418"), D("454.64"), "wait"),       # still being processed
])
def test_readiness_compares_to_the_cent(items_total, invoice_total, expected):
    items = [item(1, quantity=D(1), rate=items_total, extendedPrice=items_total, totalAmount=items_total)]
    invoice = at.Invoice(id=1, companyID=1, invoiceDateTime=CREATED, createDateTime=CREATED,
                         invoiceTotal=invoice_total)
    assert readiness(invoice, items, CREATED + dt.timedelta(minutes=1), 15) == expected
