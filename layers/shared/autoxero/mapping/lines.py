"""One billing item -> one Xero line: the account, tax type, item code and tracking rules, and grouping.

Each rule is a pure function of the item, its billing code and the invoice's context, and returns its choice
with the rule that made it (`Line.why`, shown to people by the console). A choice Xero would refuse (an
inactive account, tax rate, tracking option) stops the invoice with a Problem instead of reaching Xero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from autoxero.autotask import models as at
from autoxero.mapping.billing import Charges, billed, catalogue_sku, line_amounts
from autoxero.mapping.common import cents, fail
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.settings import AccountSource, InvoiceSettings, TaxMode, TrackingRule, TrackingSource


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


@dataclass
class LineContext:
    """Everything one invoice's lines are mapped against."""

    invoice: at.Invoice
    company: at.Company
    ref: AutotaskReference
    xero: XeroReference
    settings: InvoiceSettings
    label: str
    charges: Charges = field(default_factory=Charges)
    missing: set[str] = field(default_factory=set)


def choose_account(item: at.BillingItem, code: at.BillingCode | None, ctx: LineContext) -> tuple[str, str]:
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


def choose_item_code(item: at.BillingItem, ctx: LineContext) -> tuple[str | None, str]:
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


def choose_tax_type(item: at.BillingItem, ctx: LineContext) -> tuple[str | None, str]:
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


def tracking_value(rule: TrackingRule, item: at.BillingItem, code: at.BillingCode | None,
                   ctx: LineContext) -> str | None:
    """The Autotask value a tracking rule reads for this line (None: the line gets no option in it)."""
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


def choose_tracking(item: at.BillingItem, code: at.BillingCode | None,
              ctx: LineContext) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The line's (category, option) pairs, and the rule behind each."""
    xero, label = ctx.xero, ctx.label
    chosen: list[tuple[str, str]] = []
    why: list[str] = []
    for rule in ctx.settings.tracking:
        value = tracking_value(rule, item, code, ctx)
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


def map_line(item: at.BillingItem, sign: int, ctx: LineContext) -> Line:
    code = ctx.ref.billing_codes.get(item.billingCodeID) if item.billingCodeID else None
    quantity, unit = line_amounts(item, sign)
    description = " ".join(x for x in (item.itemName, item.description) if x and x.strip()
                           ) if item.itemName != item.description else (item.description or "")
    account, account_rule = choose_account(item, code, ctx)
    tax, tax_rule = choose_tax_type(item, ctx)
    xero_item, item_rule = choose_item_code(item, ctx)
    pairs, tracking_rules = choose_tracking(item, code, ctx)
    return Line(
        description=(description or "Item")[:4000],
        quantity=quantity,
        unit_amount=unit,
        account_code=account,
        tax_type=tax,
        item_code=xero_item,
        tracking=pairs,
        group=(item.lineItemGroupDescription or "").strip() or None,
        why=(account_rule, tax_rule, item_rule, *tracking_rules),
    )


def grouped(lines: list[Line]) -> list[Line]:
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
