"""Property tests for the total guard: whatever the lines, the Xero document either totals exactly what
Autotask says (a rounding line absorbing at most the tolerance), or the invoice is refused."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from autoxero.autotask import models as at
from autoxero.mapping.common import Unmappable
from autoxero.mapping.invoices import map_invoice
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.settings import InvoiceSettings
from autoxero.xero import models as xm

CENT = Decimal("0.01")
XERO = XeroReference(
    accounts=[xm.Account(Code="200", Name="Sales", Type="REVENUE", TaxType="OUTPUT2", Status="ACTIVE"),
              xm.Account(Code="860", Name="Rounding", Type="CURRLIAB", TaxType="NONE", Status="ACTIVE")],
    tax_rates=[xm.TaxRate(TaxType="OUTPUT2", Name="GST", EffectiveRate=Decimal("15"), Status="ACTIVE"),
               xm.TaxRate(TaxType="NONE", Name="No GST", EffectiveRate=Decimal("0"), Status="ACTIVE")],
    items=[], tracking=[], themes=[], currencies=[])
REF = AutotaskReference(tax_categories={1: at.TaxCategory(id=1, name="Standard"),
                                        2: at.TaxCategory(id=2, name="Exempt")})
COMPANY = at.Company(id=1, companyName="Acme Ltd")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def xero_total(payload: dict) -> Decimal:
    """Xero's own arithmetic over what would be sent: each line rounded, tax per line at its rate."""
    total = Decimal(0)
    for line in payload["LineItems"]:
        amount = cents(Decimal(str(line["Quantity"])) * Decimal(str(line["UnitAmount"])))
        tax_type = line.get("TaxType") or XERO.accounts[line["AccountCode"]].TaxType
        total += amount + cents(amount * (XERO.tax_rates[tax_type].EffectiveRate or 0) / 100)
    return total


quantities = st.decimals(min_value=Decimal("-20"), max_value=Decimal("200"), places=2).filter(lambda q: q != 0)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=7)
line = st.tuples(quantities, rates, st.sampled_from([1, 2]))


def autotask_invoice(lines: list[tuple[Decimal, Decimal, int]], drift: Decimal) -> tuple[at.Invoice, list]:
    items, total = [], Decimal(0)
    for index, (qty, rate, category) in enumerate(lines):
        extended = cents(qty * rate)
        tax = cents(extended * Decimal("0.15")) if category == 1 else Decimal(0)
        items.append(at.BillingItem(id=index + 1, invoiceID=1, quantity=qty, rate=rate, extendedPrice=extended,
                                    taxDollars=tax, totalAmount=extended + tax, taxCategoryID=category,
                                    itemName=f"Line {index}", description="work"))
        total += extended + tax
    invoice = at.Invoice(id=1, companyID=1, invoiceNumber="INV-1", invoiceTotal=total + drift,
                         invoiceDateTime=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    return invoice, items


def plan_or_problem(invoice: at.Invoice, items: list) -> tuple:
    try:
        return map_invoice(invoice, items, COMPANY, "contact-1", ref=REF, xero=XERO, settings=InvoiceSettings()), None
    except Unmappable as err:
        return None, err.problem


@settings(max_examples=300, deadline=None)
@given(st.lists(line, min_size=1, max_size=12), st.decimals(min_value=Decimal("-0.2"), max_value=Decimal("0.2"),
                                                            places=2))
def test_xero_total_equals_autotask_or_the_invoice_is_refused(lines, drift):
    invoice, items = autotask_invoice(lines, drift)
    tolerance = InvoiceSettings().rounding_tolerance
    plan, problem = plan_or_problem(invoice, items)
    if problem is not None:
        assert problem.code == "total_mismatch"
        without_rounding = Decimal(problem.context["xero_total"])
        assert abs(Decimal(problem.context["autotask_total"]) - without_rounding) > tolerance
        return
    assert plan is not None
    sign = -1 if invoice.invoiceTotal < 0 else 1
    assert xero_total(plan.payload) == invoice.invoiceTotal * sign  # to the cent, by Xero's own arithmetic
    assert abs(plan.rounding) <= tolerance
    has_rounding_line = plan.payload["LineItems"][-1]["Description"] == "Rounding"
    assert has_rounding_line == (plan.rounding != 0)
    assert all(Decimal(str(li["Quantity"])) > 0 for li in plan.payload["LineItems"])  # Xero refuses negatives
    assert plan.kind == ("credit_note" if invoice.invoiceTotal < 0 else "invoice")


@given(st.lists(line, min_size=1, max_size=8))
def test_consistent_autotask_invoices_never_need_more_than_the_tolerance(lines):
    invoice, items = autotask_invoice(lines, Decimal(0))
    plan = map_invoice(invoice, items, COMPANY, "contact-1", ref=REF, xero=XERO, settings=InvoiceSettings())
    assert abs(plan.rounding) <= Decimal("0.05")


# ----------------------------------------------------------------------------- amounts as Autotask bills them
# 4-place quantities, rates up to 7 places, extendedPrice that is not quantity x rate (a block-hour factor),
# and prepaid block-hour / retainer time billed at 0 (totalAmount 0, as the recorded item in
# contractika-org/contractika contractika/data/at/billingitems.php); invoiceTotal to 4 places or the cent.

FOUR = Decimal("0.0001")
billed_line = st.tuples(
    st.decimals(min_value=Decimal("-20"), max_value=Decimal("200"), places=4).filter(lambda q: q != 0),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=7),
    st.sampled_from([1, 2]),
    st.sampled_from([Decimal(1), Decimal("1.2178")]),   # extendedPrice = quantity x rate x factor
    st.booleans(),                                       # prepaid: posted, billed 0
)


def billed_invoice(lines: list[tuple[Decimal, Decimal, int, Decimal, bool]], rounded_total: bool
                   ) -> tuple[at.Invoice, list]:
    items, total = [], Decimal(0)
    for index, (qty, rate, category, factor, prepaid) in enumerate(lines):
        extended = (qty * rate * factor).quantize(FOUR, rounding=ROUND_HALF_UP)
        billed = Decimal(0) if prepaid else extended
        tax = cents(billed * Decimal("0.15")) if category == 1 else Decimal(0)
        items.append(at.BillingItem(id=index + 1, invoiceID=1, quantity=qty, rate=rate, extendedPrice=extended,
                                    taxDollars=tax, totalAmount=billed + tax, taxCategoryID=category,
                                    contractBlockID=75 if prepaid else None, itemName=f"Line {index}"))
        total += billed + tax
    invoice = at.Invoice(id=1, companyID=1, invoiceNumber="INV-1", invoiceTotal=cents(total) if rounded_total
                         else total, invoiceDateTime=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    return invoice, items


@settings(max_examples=300, deadline=None)
@given(st.lists(billed_line, min_size=1, max_size=12), st.booleans())
def test_billed_amounts_reach_xero_to_the_cent_or_the_invoice_is_refused(lines, rounded_total):
    from autoxero.mapping.invoices import readiness

    invoice, items = billed_invoice(lines, rounded_total)
    assert readiness(invoice, items, invoice.invoiceDateTime, 15) == "ready"  # never held as incomplete
    plan, problem = plan_or_problem(invoice, items)
    sign = -1 if invoice.invoiceTotal < 0 else 1
    if problem is not None:
        assert problem.code == "total_mismatch"
        assert abs(Decimal(problem.context["autotask_total"]) - Decimal(problem.context["xero_total"])) \
            > InvoiceSettings().rounding_tolerance
        return
    assert plan is not None
    assert xero_total(plan.payload) == cents(invoice.invoiceTotal * sign)
    assert all(Decimal(str(li["Quantity"])) > 0 for li in plan.payload["LineItems"])
    for item, line in zip(sorted(items, key=lambda i: i.id), plan.payload["LineItems"], strict=False):
        amount = cents(Decimal(str(line["Quantity"])) * Decimal(str(line["UnitAmount"])))
        assert amount == cents(item.totalAmount - item.taxDollars) * sign  # each line bills what Autotask billed


@given(st.lists(billed_line, min_size=1, max_size=3), st.booleans())
def test_rounding_is_bounded_by_the_sub_cent_lines(lines, rounded_total):
    """Per billed line with a sub-cent amount: at most half a cent on the amount and a cent on its tax;
    half a cent more when Autotask's total is already rounded. Whole-cent lines need none."""
    invoice, items = billed_invoice(lines, rounded_total)
    plan = map_invoice(invoice, items, COMPANY, "contact-1", ref=REF, xero=XERO, settings=InvoiceSettings())
    sub_cent = sum(1 for i in items if i.totalAmount - i.taxDollars != cents(i.totalAmount - i.taxDollars))
    assert abs(plan.rounding) <= Decimal("0.015") * sub_cent + Decimal("0.005") * rounded_total
