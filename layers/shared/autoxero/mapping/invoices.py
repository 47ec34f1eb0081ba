"""Autotask invoice + billing items -> Xero invoice (or credit note, for a negative invoice).

Every mapping has a default and fails closed: a code that has no mapping and no default, a tax pair that
is not mapped, a tracking option Xero does not have, a total that would not match — each stops that one
invoice with a Problem, and never reaches Xero as a guess.

Totals: each line bills what Autotask billed (mapping/billing.py: prepaid block-hour time at 0, 4-place
amounts to the cent). Xero computes each line as round(Quantity x UnitAmount, 2) and, for Exclusive amounts,
tax per line at the line's rate. The mapping computes the same, compares with Autotask's invoiceTotal to the
cent, and either adds a rounding line (a difference within settings.rounding_tolerance) or refuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from autoxero.autotask import models as at
from autoxero.mapping.billing import Charges, invoice_total, items_add_up
from autoxero.mapping.common import cents, content_hash, fail, findable
from autoxero.mapping.lines import Line, LineContext, grouped, map_line
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.settings import InvoiceSettings, Numbering, ReferenceSource

Kind = Literal["invoice", "credit_note"]
Readiness = Literal["ready", "wait", "mismatch", "empty"]


@dataclass(frozen=True)
class DocumentPlan:
    autotask_id: int
    kind: Kind
    number: str  # the Autotask-derived identity: InvoiceNumber/CreditNoteNumber, or Reference
    payload: dict[str, Any]
    content_hash: str
    autotask_total: Decimal  # in the document's own orientation (a credit note's is positive)
    expected_total: Decimal  # what Xero will compute, rounding line included
    rounding: Decimal
    missing_items: tuple[str, ...] = field(default_factory=tuple)
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def identity_field(self) -> str:
        if "InvoiceNumber" in self.payload or "CreditNoteNumber" in self.payload:
            return "InvoiceNumber" if self.kind == "invoice" else "CreditNoteNumber"
        return "Reference"


def readiness(invoice: at.Invoice, items: list[at.BillingItem], now: dt.datetime, settle_minutes: int) -> Readiness:
    """Whether Autotask has finished the invoice: its billing items add up to invoiceTotal.

    While they do not, Autotask may still be processing it: wait `settle_minutes` from creation, and only
    then call it a mismatch.
    """
    if not items and invoice.invoiceTotal == 0:
        return "empty"
    if items_add_up(invoice, items):
        return "ready"
    created = invoice.createDateTime or invoice.invoiceDateTime  # aware UTC: the models' one time rule
    return "wait" if now - created < dt.timedelta(minutes=settle_minutes) else "mismatch"


def document_kind(invoice: at.Invoice) -> Kind:
    """A negative Autotask invoice is a credit in Xero: Xero refuses an invoice that totals below zero."""
    return "credit_note" if invoice.invoiceTotal < 0 else "invoice"


def document_number(invoice: at.Invoice, settings: InvoiceSettings) -> str:
    return findable(f"{settings.number_prefix}{(invoice.invoiceNumber or '').strip() or f'AT{invoice.id}'}")


# ----------------------------------------------------------------------------- the document


def expected_total(lines: Iterable[Line], xero: XeroReference) -> Decimal:
    total = Decimal(0)
    for line in lines:
        rate = xero.rate(line.tax_type, line.account_code)
        total += line.amount + cents(line.amount * rate / 100)
    return total


def map_invoice(invoice: at.Invoice, items: list[at.BillingItem], company: at.Company, contact_id: str, *,
                ref: AutotaskReference, xero: XeroReference, settings: InvoiceSettings,
                deep_link: str | None = None, charges: Charges | None = None) -> DocumentPlan:
    number = document_number(invoice, settings)
    label = f"Invoice {number} ({company.companyName})"
    if not items:
        raise fail("no_lines", f"{label} has no billing items, so there is nothing to put on a Xero invoice.",
                   "Check the invoice in Autotask (Invoice History); void it there if it was created by mistake.")
    kind = document_kind(invoice)
    sign = -1 if kind == "credit_note" else 1
    ctx = LineContext(invoice, company, ref, xero, settings, label, charges or Charges())
    ordered = sorted(items, key=lambda i: (i.sortOrderID if i.sortOrderID is not None else Decimal(0), i.id))
    lines = [map_line(i, sign, ctx) for i in ordered]
    if settings.group_by_line_item_group:
        lines = grouped(lines)
    autotask_total = invoice_total(invoice) * sign
    computed = expected_total(lines, xero)
    difference = autotask_total - computed
    if abs(difference) > settings.rounding_tolerance:
        raise fail("total_mismatch",
                   f"{label}: Xero would total {computed:.2f} but Autotask says {autotask_total:.2f} "
                   f"(a difference of {difference:.2f}, more than the {settings.rounding_tolerance} allowed).",
                   "Check the invoice's tax: the Xero account's default tax rate (or the tax mapping) must match "
                   "what Autotask charged. Raise invoices.rounding_tolerance only for genuine rounding.",
                   xero_total=str(computed), autotask_total=str(autotask_total))
    if difference:
        if settings.rounding_account_code not in xero.accounts:
            raise fail("unknown_account", f"{label}: the rounding account {settings.rounding_account_code} is "
                       "not an active account in Xero.", "Set invoices.rounding_account_code to an active account.")
        lines.append(Line("Rounding", Decimal(1), difference, settings.rounding_account_code,
                          settings.tax.exempt_tax_type if settings.tax.exempt_tax_type in xero.tax_rates else None,
                          None, (), why=(f"rounding: Xero's total differs from Autotask's by {difference} (within "
                                         "invoices.rounding_tolerance), posted to invoices.rounding_account_code",)))
    payload = _header(ctx, items, contact_id, kind, number)
    payload["LineItems"] = [line.wire(xero) for line in lines]
    if deep_link:
        payload["Url"] = deep_link
    return DocumentPlan(invoice.id, kind, number, payload, content_hash(payload), autotask_total,
                        computed + difference, difference, tuple(sorted(ctx.missing)), tuple(lines))


def _header(ctx: LineContext, items: list[at.BillingItem], contact_id: str, kind: Kind, number: str) -> dict[str, Any]:
    invoice, company, ref, xero, settings, label = ctx.invoice, ctx.company, ctx.ref, ctx.xero, ctx.settings, ctx.label
    issued = invoice.invoiceDateTime.date()
    payload: dict[str, Any] = {
        "Type": "ACCREC" if kind == "invoice" else "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "Date": issued.isoformat(),
        "Status": settings.status.value,
        "LineAmountTypes": "Exclusive",
    }
    reference = {
        ReferenceSource.ORDER_NUMBER: (invoice.orderNumber or "").strip(),
        ReferenceSource.PURCHASE_ORDER_NUMBER: next(
            (p.strip() for i in items if (p := i.purchaseOrderNumber) and p.strip()), ""),
        ReferenceSource.NONE: "",
    }[settings.reference]
    reference = findable(reference)
    number_field = "InvoiceNumber" if kind == "invoice" else "CreditNoteNumber"
    if settings.numbering is Numbering.AUTOTASK:
        payload[number_field] = number
        if reference:
            payload["Reference"] = reference[:255]
    else:
        payload["Reference"] = f"{number} {reference}".strip()[:255]
    if kind == "invoice":
        payload["DueDate"] = due_date(invoice, ref, issued).isoformat()
    theme = branding_theme(ctx)
    if theme:
        payload["BrandingThemeID"] = theme
    currency = ref.currencies.get(company.currencyID or -1)
    if currency and currency.name != xero.base_currency:
        if currency.name not in xero.currencies:
            raise fail("unknown_currency", f"{label} is in {currency.name}, which is not enabled in Xero.",
                       f"Add the currency {currency.name} in Xero (Settings > Currencies).")
        payload["CurrencyCode"] = currency.name
    return payload


def due_date(invoice: at.Invoice, ref: AutotaskReference, issued: dt.date) -> dt.date:
    """Autotask's due date (never before the issue date, which Xero refuses), else the payment term's days
    after issue, else the issue date."""
    if invoice.dueDate:
        return max(invoice.dueDate.date(), issued)
    term = ref.payment_terms.get(invoice.paymentTerm or -1)
    return issued + dt.timedelta(days=term.paymentDueInDays or 0) if term else issued


def branding_theme(ctx: LineContext) -> str | None:
    """The BrandingThemeID for the invoice's template (the invoice's own, else its company's): mapped in
    settings (a mapped theme Xero lacks stops the invoice), else the theme named like the template, else none."""
    invoice, company, ref, xero, settings, label = ctx.invoice, ctx.company, ctx.ref, ctx.xero, ctx.settings, ctx.label
    template_id = invoice.invoiceEditorTemplateID or company.invoiceTemplateID
    if template_id is None:
        return None
    mapped = settings.branding_by_template.get(str(template_id))
    if mapped:
        if mapped not in xero.branding_themes:
            raise fail("unknown_branding_theme", f"{label}: invoice template {template_id} maps to branding theme "
                       f"'{mapped}', which Xero does not have.",
                       "Fix invoices.branding_by_template, or create the theme in Xero.", theme=mapped)
        return xero.branding_themes[mapped]
    template = ref.templates.get(template_id)
    return xero.branding_themes.get(template.name) if template else None
