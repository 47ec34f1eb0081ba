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
from autoxero.mapping.billing import Charges, billed, catalogue_sku, invoice_total, items_add_up, line_amounts
from autoxero.mapping.common import cents, content_hash, fail, findable
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.settings import (
    AccountSource,
    InvoiceSettings,
    Numbering,
    ReferenceSource,
    TaxMode,
    TrackingRule,
    TrackingSource,
)

Kind = Literal["invoice", "credit_note"]
Readiness = Literal["ready", "wait", "mismatch", "empty"]


@dataclass(frozen=True, slots=True)
class Line:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_type: str | None
    item_code: str | None
    tracking: tuple[tuple[str, str], ...]  # (category, option)
    group: str | None = None
    why: tuple[str, ...] = ()  # the rule behind each choice, for people (the console shows it); never sent

    @property
    def amount(self) -> Decimal:
        return cents(self.quantity * self.unit_amount)

    def wire(self, reference: XeroReference) -> dict[str, Any]:
        line: dict[str, Any] = {"Description": self.description, "Quantity": self.quantity,
                                "UnitAmount": self.unit_amount, "AccountCode": self.account_code}
        if self.tax_type:
            line["TaxType"] = self.tax_type
        if self.item_code:
            line["ItemCode"] = self.item_code
        if self.tracking:
            line["Tracking"] = [{"Name": c, "Option": o, "TrackingCategoryID": reference.tracking[c][o][0],
                                 "TrackingOptionID": reference.tracking[c][o][1]} for c, o in self.tracking]
        return line


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


def document_number(invoice: at.Invoice, settings: InvoiceSettings) -> str:
    return findable(f"{settings.number_prefix}{(invoice.invoiceNumber or '').strip() or f'AT{invoice.id}'}")


# ----------------------------------------------------------------------------- one line's mappings


@dataclass
class _Context:
    """Everything one invoice's lines are mapped against."""

    invoice: at.Invoice
    company: at.Company
    ref: AutotaskReference
    xero: XeroReference
    settings: InvoiceSettings
    label: str
    charges: Charges = field(default_factory=Charges)
    missing: set[str] = field(default_factory=set)


def _account(item: at.BillingItem, code: at.BillingCode | None, ctx: _Context) -> tuple[str, str]:
    """The line's account code, and the rule that chose it."""
    settings, xero, label = ctx.settings, ctx.xero, ctx.label
    chosen = settings.account_by_billing_code.get(str(item.billingCodeID)) if item.billingCodeID else None
    source = "the account mapping in settings"
    rule = f"account: billing code {item.billingCodeID} is mapped in invoices.account_by_billing_code"
    if not chosen and code is not None:
        if settings.account_source is AccountSource.EXTERNAL_NUMBER and code.externalNumber:
            chosen, source = code.externalNumber.strip(), f"billing code '{code.name}' (external number)"
            rule = f"account: the external number of billing code '{code.name}' (invoices.account_source)"
        elif settings.account_source is AccountSource.GENERAL_LEDGER and code.generalLedgerAccount is not None:
            chosen = settings.account_by_gl.get(str(code.generalLedgerAccount))
            source = f"billing code '{code.name}' (GL {code.generalLedgerAccount})"
            rule = f"account: GL {code.generalLedgerAccount} of billing code '{code.name}' (invoices.account_by_gl)"
    if not chosen:
        chosen, source = settings.default_account_code, "the default account in settings"
        rule = "account: nothing more specific applies, so the default (invoices.default_account_code)"
    if chosen not in xero.accounts:
        raise fail("unknown_account",
                   f"{label}: line '{item.itemName or item.description}' would post to account {chosen} "
                   f"(from {source}), which is not an active account in Xero.",
                   f"Add account {chosen} in Xero, or map the billing code to an existing account code in "
                   "settings (invoices.account_by_billing_code).", account_code=chosen,
                   billing_code_id=item.billingCodeID)
    return chosen, rule


def _item_code(item: at.BillingItem, ctx: _Context) -> tuple[str | None, str]:
    """The line's Xero item code (or None), and the rule that chose it."""
    settings, xero, label, missing = ctx.settings, ctx.xero, ctx.label, ctx.missing
    mapped = settings.item_by_billing_code.get(str(item.billingCodeID)) if item.billingCodeID else None
    by_code = f"item: billing code {item.billingCodeID} is mapped in invoices.item_by_billing_code"
    if mapped:
        if mapped in xero.item_codes:
            return mapped, by_code
        if settings.create_missing_items:
            missing.add(mapped)
            return mapped, by_code + " (created in Xero: invoices.create_missing_items)"
        raise fail("unknown_item", f"{label}: billing code {item.billingCodeID} maps to Xero item '{mapped}', "
                   "which Xero does not have.",
                   f"Create item '{mapped}' in Xero, fix invoices.item_by_billing_code, or turn on "
                   "invoices.create_missing_items.", item_code=mapped)
    sku = catalogue_sku(item, ctx.charges, ctx.ref) if settings.item_by_product_sku else None
    if sku:
        by_sku = f"item: the catalogue SKU '{sku}' (invoices.item_by_product_sku)"
        if sku in xero.item_codes:
            return sku, by_sku
        if settings.create_missing_items and len(sku) <= 30:
            missing.add(sku)
            return sku, by_sku + " (created in Xero: invoices.create_missing_items)"
    return None, "item: none (no item mapping or product SKU applies)"


def tax_pair(invoice: at.Invoice, company: at.Company, item: at.BillingItem,
             ref: AutotaskReference) -> tuple[str, str]:
    """The (tax region, tax category) names a line is taxed under when invoices.tax.mode is 'mapped' (either
    may be empty): the invoice's region, else its company's, and the line's category."""
    region = (invoice.taxRegionName or "").strip() or (
        ref.tax_regions[company.taxRegionID].name if company.taxRegionID in ref.tax_regions else "")
    category = ref.tax_categories[item.taxCategoryID].name if item.taxCategoryID in ref.tax_categories else ""
    return region, category


def _tax_type(item: at.BillingItem, ctx: _Context) -> tuple[str | None, str]:
    """The line's tax type (None: Xero applies the account's default rate), and the rule that chose it."""
    company, invoice, ref, xero, label = ctx.company, ctx.invoice, ctx.ref, ctx.xero, ctx.label
    tax = ctx.settings.tax
    if company.isTaxExempt:
        chosen: str | None = tax.exempt_tax_type
        rule = "tax: the company is tax exempt in Autotask (invoices.tax.exempt_tax_type)"
    elif tax.mode is TaxMode.XERO_CALCULATES:
        # Xero applies each account's default rate, except where Autotask charged no tax on the line:
        # Xero must not add tax the customer was never charged.
        if item.taxDollars != 0 or billed(item) == 0:
            return None, "tax: Xero applies the account's default rate (invoices.tax.mode: xero_calculates)"
        chosen = tax.exempt_tax_type
        rule = "tax: Autotask charged no tax on this line (invoices.tax.exempt_tax_type)"
    else:
        region, category = tax_pair(invoice, company, item, ref)
        key = f"{region}|{category}"
        chosen = tax.by_region_and_category.get(key)
        rule = f"tax: region '{region}' and category '{category}' (invoices.tax.by_region_and_category)"
        if not chosen:
            raise fail("unmapped_tax",
                       f"{label}: no Xero tax rate is mapped for tax region '{region or '(none)'}' and category "
                       f"'{category or '(none)'}'.",
                       f"Add \"{key}\": \"<Xero TaxType>\" to invoices.tax.by_region_and_category in settings.",
                       tax_key=key)
    if chosen not in xero.tax_rates:
        raise fail("unknown_tax_type", f"{label}: tax rate '{chosen}' is not an active tax rate in Xero.",
                   "Use an active Xero tax rate in settings (see Settings > Tax rates in Xero).", tax_type=chosen)
    return chosen, rule


def _tracking_value(rule: TrackingRule, item: at.BillingItem, code: at.BillingCode | None, ctx: _Context) -> str | None:
    company, ref = ctx.company, ctx.ref
    match rule.source:
        case TrackingSource.TERRITORY:
            return ref.label("Companies.territoryID", company.territoryID)
        case TrackingSource.CLASSIFICATION:
            return ref.label("Companies.classification", company.classification)
        case TrackingSource.BILLING_CODE:
            return code.name if code else None
        case TrackingSource.CONTRACT:
            return str(item.contractID) if item.contractID else None
        case TrackingSource.UDF:
            return company.udf(rule.udf_name or "")


def _tracking(item: at.BillingItem, code: at.BillingCode | None,
              ctx: _Context) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The line's (category, option) pairs, and the rule behind each."""
    xero, label = ctx.xero, ctx.label
    chosen: list[tuple[str, str]] = []
    why: list[str] = []
    for rule in ctx.settings.tracking:
        value = _tracking_value(rule, item, code, ctx)
        if not value:
            continue
        option = rule.options.get(value, value)
        mapped = "mapped in its options" if value in rule.options else "used as the option name"
        if rule.category not in xero.tracking:
            raise fail("unknown_tracking_category",
                       f"{label}: tracking category '{rule.category}' is not active in Xero.",
                       "Create or activate it in Xero (Settings > Tracking categories), or fix invoices.tracking.")
        if option not in xero.tracking[rule.category]:
            raise fail("unknown_tracking_option",
                       f"{label}: Xero's tracking category '{rule.category}' has no option '{option}'.",
                       f"Add the option '{option}' in Xero, or map '{value}' in invoices.tracking[].options.",
                       category=rule.category, option=option)
        chosen.append((rule.category, option))
        why.append(f"tracking: {rule.category} = '{option}' from the {rule.source.value} '{value}' ({mapped}, "
                   "invoices.tracking)")
    return tuple(chosen), tuple(why)


def _line(item: at.BillingItem, sign: int, ctx: _Context) -> Line:
    code = ctx.ref.billing_codes.get(item.billingCodeID) if item.billingCodeID else None
    quantity, unit = line_amounts(item, sign)
    description = " ".join(x for x in (item.itemName, item.description) if x and x.strip()
                           ) if item.itemName != item.description else (item.description or "")
    account, account_rule = _account(item, code, ctx)
    tax_type, tax_rule = _tax_type(item, ctx)
    item_code, item_rule = _item_code(item, ctx)
    tracking, tracking_rules = _tracking(item, code, ctx)
    return Line(
        description=(description or "Item")[:4000],
        quantity=quantity,
        unit_amount=unit,
        account_code=account,
        tax_type=tax_type,
        item_code=item_code,
        tracking=tracking,
        group=(item.lineItemGroupDescription or "").strip() or None,
        why=(account_rule, tax_rule, item_rule, *tracking_rules),
    )


def _grouped(lines: list[Line]) -> list[Line]:
    """One line per printed group (and per account, tax, item and tracking, which Xero needs per line)."""
    merged: dict[tuple[Any, ...], Decimal] = {}
    first: dict[tuple[Any, ...], Line] = {}
    for line in lines:
        key = (line.group or line.description, line.account_code, line.tax_type, line.item_code, line.tracking)
        merged[key] = merged.get(key, Decimal(0)) + line.amount
        first.setdefault(key, line)
    return [Line(description=key[0], quantity=Decimal(1), unit_amount=total, account_code=first[key].account_code,
                 tax_type=first[key].tax_type, item_code=first[key].item_code, tracking=first[key].tracking,
                 group=first[key].group,
                 why=(*first[key].why, "grouped: one line per printed group (invoices.group_by_line_item_group)"))
            for key, total in merged.items()]


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
    kind: Kind = "credit_note" if invoice.invoiceTotal < 0 else "invoice"
    sign = -1 if kind == "credit_note" else 1
    ctx = _Context(invoice, company, ref, xero, settings, label, charges or Charges())
    ordered = sorted(items, key=lambda i: (i.sortOrderID if i.sortOrderID is not None else Decimal(0), i.id))
    lines = [_line(i, sign, ctx) for i in ordered]
    if settings.group_by_line_item_group:
        lines = _grouped(lines)
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


def _header(ctx: _Context, items: list[at.BillingItem], contact_id: str, kind: Kind, number: str) -> dict[str, Any]:
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
        payload["DueDate"] = _due_date(invoice, ref, issued).isoformat()
    theme = _branding(ctx)
    if theme:
        payload["BrandingThemeID"] = theme
    currency = ref.currencies.get(company.currencyID or -1)
    if currency and currency.name != xero.base_currency:
        if currency.name not in xero.currencies:
            raise fail("unknown_currency", f"{label} is in {currency.name}, which is not enabled in Xero.",
                       f"Add the currency {currency.name} in Xero (Settings > Currencies).")
        payload["CurrencyCode"] = currency.name
    return payload


def _due_date(invoice: at.Invoice, ref: AutotaskReference, issued: dt.date) -> dt.date:
    if invoice.dueDate:
        return max(invoice.dueDate.date(), issued)
    term = ref.payment_terms.get(invoice.paymentTerm or -1)
    return issued + dt.timedelta(days=term.paymentDueInDays or 0) if term else issued


def _branding(ctx: _Context) -> str | None:
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
