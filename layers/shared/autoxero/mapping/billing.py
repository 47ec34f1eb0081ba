"""What a billing item bills: its amount as Autotask billed it, and the catalogue SKU behind it.

Amounts. Autotask keeps quantity, rate and extendedPrice to 4 places (rates up to 7), and extendedPrice need
not be quantity x rate. Time drawn from a prepaid block or retainer is posted with its hours and
extendedPrice but billed nothing: totalAmount 0 and taxDollars 0 (a recorded live item: quantity 3.1750,
rate 100.0000, extendedPrice 386.6450, totalAmount 0.0000 — contractika-org/contractika
contractika/data/at/billingitems.php). So the amount a line bills, before tax, is totalAmount - taxDollars,
and the invoice's total is the sum of totalAmount, to the cent.

Products. BillingItems carry no productID (the REST swagger's BillingItemModel; tphakala/go-autotask
entities/billing_items.go, generated from a live tenant). A product line points at the charge it bills
(contractChargeID, ticketChargeID, projectChargeID), whose productID names the product; a recurring
service line names its Service or ServiceBundle, which carries its own sku.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from autoxero.autotask import models as at
from autoxero.mapping.common import CENT, cents, four_places
from autoxero.mapping.reference import AutotaskReference

# billing item field -> the charge entity it points into
CHARGE_ENTITIES: dict[str, str] = {"contractChargeID": "ContractCharges", "ticketChargeID": "TicketCharges",
                                   "projectChargeID": "ProjectCharges"}


# ----------------------------------------------------------------------------- amounts


def billed(item: at.BillingItem) -> Decimal:
    """What the item bills before tax: 0 for time drawn from a prepaid block or retainer."""
    return item.totalAmount - item.taxDollars


def invoice_total(invoice: at.Invoice) -> Decimal:
    """The Autotask invoice's total to the cent (Autotask keeps it to 4 places)."""
    return cents(invoice.invoiceTotal)


def items_add_up(invoice: at.Invoice, items: Iterable[at.BillingItem]) -> bool:
    """Whether the items' totals make the invoice's total, to the cent (4-place sums against a total that
    may or may not be rounded already)."""
    return abs(sum((i.totalAmount for i in items), Decimal(0)) - invoice.invoiceTotal) < CENT


def line_amounts(item: at.BillingItem, sign: int) -> tuple[Decimal, Decimal]:
    """(Quantity, UnitAmount) for Xero, which computes a line as round(Quantity x UnitAmount, 2) with both at 4
    places and refuses negative quantities: the line comes to the billed amount to the cent, keeping Autotask's
    quantity (and rate, when it gives that amount) so the customer still sees the hours or units."""
    amount = cents(billed(item)) * sign
    quantity = four_places(abs(item.quantity))
    if amount == 0:
        return (quantity or Decimal(1)), Decimal(0)
    unit = four_places(abs(item.rate))
    if not quantity or cents(quantity * unit) != abs(amount):
        unit = four_places(abs(amount) / quantity) if quantity else abs(amount)
        if not quantity or cents(quantity * unit) != abs(amount):
            quantity, unit = Decimal(1), abs(amount)
    return quantity, unit if amount > 0 else -unit


# ----------------------------------------------------------------------------- products and services


@dataclass(frozen=True)
class Charges:
    """The charges this run's billing items bill, by entity and id."""

    by_entity: Mapping[str, Mapping[int, at.Charge]] = field(default_factory=dict)

    def of(self, item: at.BillingItem) -> at.Charge | None:
        for item_field, entity in CHARGE_ENTITIES.items():
            charge_id = getattr(item, item_field)
            if charge_id is not None:
                return self.by_entity.get(entity, {}).get(charge_id)
        return None

    def product_ids(self) -> set[int]:
        return {c.productID for charges in self.by_entity.values() for c in charges.values() if c.productID}


def charges_to_read(items: Iterable[at.BillingItem]) -> dict[str, set[int]]:
    """Charge entity -> the ids the items point at (read with one `in` query per entity and 500 ids)."""
    wanted: dict[str, set[int]] = {}
    for item in items:
        for item_field, entity in CHARGE_ENTITIES.items():
            charge_id = getattr(item, item_field)
            if charge_id is not None:
                wanted.setdefault(entity, set()).add(charge_id)
    return wanted


def catalogue_sku(item: at.BillingItem, charges: Charges, ref: AutotaskReference) -> str | None:
    """The SKU of what the item sells: its charge's product, else its service bundle or service."""
    charge = charges.of(item)
    if charge is not None:
        product = ref.products.get(charge.productID) if charge.productID else None
        return _sku(product.sku if product else None)
    if item.serviceBundleID is not None and item.serviceBundleID in ref.service_bundles:
        return _sku(ref.service_bundles[item.serviceBundleID].sku)
    if item.serviceID is not None and item.serviceID in ref.services:
        return _sku(ref.services[item.serviceID].sku)
    return None


def invoice_sources(company: at.Company | None, items: Iterable[at.BillingItem], charges: Charges,
            ref: AutotaskReference) -> list[dict[str, Any]]:
    """The Autotask records an invoice's mapping reads besides the invoice and its items: the company (tax
    exemption, region), and per line its charge, what it sells (product, bundle, service: the SKU) and its tax
    category. A refused invoice is tried again when one of them changes (mapping/refusals.py)."""
    found: list[dict[str, Any]] = [{"company": company.model_dump(mode="json")}] if company is not None else []
    for item in sorted(items, key=lambda i: i.id):
        charge = charges.of(item)
        records = {"charge": charge,
                   "product": ref.products.get(charge.productID) if charge is not None and charge.productID else None,
                   "bundle": ref.service_bundles.get(item.serviceBundleID) if item.serviceBundleID else None,
                   "service": ref.services.get(item.serviceID) if item.serviceID else None,
                   "tax_category": ref.tax_categories.get(item.taxCategoryID) if item.taxCategoryID else None}
        found.append({"item": item.id} | {k: v.model_dump(mode="json") for k, v in records.items() if v is not None})
    return found


def _sku(value: str | None) -> str | None:
    return (value or "").strip() or None
