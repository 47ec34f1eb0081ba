"""Autotask purchase order + items -> Xero bill (ACCPAY invoice) or Xero purchase order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from autoxero.autotask import models as at
from autoxero.mapping.common import cents, content_hash, fail, four_places
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.settings import PurchaseOrderSettings

# Autotask's purchase order statuses in the order a PO moves through them (Cancel stands apart).
STATUS_ORDER = ("new", "submitted", "received partial", "received full")
CANCELLED = "cancel"

Stage = Literal["before_trigger", "ready", "cancelled"]
TargetName = Literal["bill", "purchase_order"]


@dataclass(frozen=True, slots=True)
class Target:
    """What an Autotask purchase order becomes in Xero, and how that document is named and found there."""

    name: TargetName  # also the id-map kind
    number_field: str  # the Xero field that carries the Autotask PO number
    id_field: str  # Xero's id of the document


TARGETS: dict[TargetName, Target] = {
    "bill": Target("bill", "InvoiceNumber", "InvoiceID"),  # an ACCPAY invoice
    "purchase_order": Target("purchase_order", "PurchaseOrderNumber", "PurchaseOrderID"),
}


def target(settings: PurchaseOrderSettings) -> Target:
    return TARGETS[settings.target]


def stage(status_label: str | None, settings: PurchaseOrderSettings) -> Stage:
    """Whether a PO with this status label is sent now: cancelled, or at or past the trigger status in
    Autotask's order (a status outside that order must equal the trigger)."""
    label = (status_label or "").strip().casefold()
    if label.startswith(CANCELLED):
        return "cancelled"
    trigger = settings.trigger_status.strip().casefold()
    if label in STATUS_ORDER and trigger in STATUS_ORDER:
        return "ready" if STATUS_ORDER.index(label) >= STATUS_ORDER.index(trigger) else "before_trigger"
    return "ready" if label == trigger else "before_trigger"


@dataclass(frozen=True)
class PurchasePlan:
    autotask_id: int
    number: str
    target: TargetName
    payload: dict[str, Any]
    content_hash: str
    total: Decimal


def map_purchase_order(order: at.PurchaseOrder, items: list[at.PurchaseOrderItem], contact_id: str, *,
                       ref: AutotaskReference, xero: XeroReference,
                       settings: PurchaseOrderSettings) -> PurchasePlan:
    number = order_number(order)
    label = f"Purchase order {number}"
    if not items and not order.freight:
        raise fail("no_lines", f"{label} has no items.", "Add items to the purchase order in Autotask.")
    tax_type = settings.tax_type
    if tax_type and tax_type not in xero.tax_rates:
        raise fail("unknown_tax_type", f"{label}: tax rate '{tax_type}' is not active in Xero.",
                   "Fix purchase_orders.tax_type in settings.")
    lines: list[dict[str, Any]] = []
    for item in sorted(items, key=lambda i: i.id):
        product = ref.products.get(item.productID) if item.productID else None
        code = settings.account_by_billing_code.get(str(product.productBillingCodeID)) if product else None
        account = code or settings.default_account_code
        if account not in xero.accounts:
            raise fail("unknown_account", f"{label}: account {account} is not an active account in Xero.",
                       "Map the product's billing code in purchase_orders.account_by_billing_code, or fix "
                       "purchase_orders.default_account_code.", account_code=account)
        description = (product.name if product else "") or item.memo or "Item"
        if product and product.sku:
            description = f"{description} ({product.sku})"
        line: dict[str, Any] = {"Description": description[:4000], "Quantity": four_places(item.quantity),
                                "UnitAmount": unit_amount(item.unitCost, settings.target), "AccountCode": account}
        if product and product.sku and product.sku.strip() in xero.item_codes:
            line["ItemCode"] = product.sku.strip()
        if tax_type:
            line["TaxType"] = tax_type
        lines.append(line)
    if order.freight:
        if settings.freight_account_code not in xero.accounts:
            raise fail("unknown_account", f"{label}: the freight account {settings.freight_account_code} is not "
                       "active in Xero.", "Fix purchase_orders.freight_account_code in settings.")
        freight: dict[str, Any] = {"Description": "Freight", "Quantity": Decimal(1),
                                   "UnitAmount": unit_amount(order.freight, settings.target),
                                   "AccountCode": settings.freight_account_code}
        if tax_type:
            freight["TaxType"] = tax_type
        lines.append(freight)
    issued = issued_at(order, dt.datetime.now(dt.UTC)).date()
    term = ref.payment_terms.get(order.paymentTerm or -1)
    payload: dict[str, Any] = {"Contact": {"ContactID": contact_id}, "Date": issued.isoformat(),
                               "Status": settings.status.value, "LineAmountTypes": "Exclusive", "LineItems": lines}
    if settings.target == "bill":
        payload.update(Type="ACCPAY", InvoiceNumber=number,
                       DueDate=(issued + dt.timedelta(days=term.paymentDueInDays or 0) if term else issued).isoformat())
    else:
        payload.update(PurchaseOrderNumber=number, Reference=(order.externalPONumber or "")[:255] or None)
        if order.latestEstimatedArrivalDate:
            payload["DeliveryDate"] = order.latestEstimatedArrivalDate.date().isoformat()
        payload = {k: v for k, v in payload.items() if v is not None}
    return PurchasePlan(order.id, number, settings.target, payload, content_hash(payload),
                        purchase_total(order, items, settings.target))


def issued_at(order: at.PurchaseOrder, now: dt.datetime) -> dt.datetime:
    """When the order was issued: submitted, else created (`now` for neither); its Xero document's Date."""
    return order.submitDateTime or order.createDateTime or now


def unit_amount(value: Decimal | None, kind: str) -> Decimal:
    """A unit amount as Xero keeps it: a bill's to 4 places (autoxero writes bills with unitdp=4), a purchase
    order's to 2, as Xero keeps every unit amount written without unitdp, and PUT/POST /PurchaseOrders take
    none (Xero's Accounting API OpenAPI document, xero_accounting.yaml, lists unitdp on Invoices and CreditNotes
    only). Rounded here, so that what is sent is what Xero keeps and totals."""
    return four_places(value or Decimal(0)) if kind == "bill" else cents(value or Decimal(0))


def purchase_total(order: at.PurchaseOrder, items: list[at.PurchaseOrderItem], kind: str) -> Decimal:
    """What Xero totals the order to before tax: each line's quantity x unit amount (as Xero keeps it for a
    `kind` of document) rounded to the cent, as Xero rounds a LineAmount, plus freight."""
    lines = (cents(four_places(i.quantity) * unit_amount(i.unitCost, kind)) for i in items)
    return sum(lines, Decimal(0)) + cents(unit_amount(order.freight, kind))


def order_number(order: at.PurchaseOrder) -> str:
    return (order.purchaseOrderNumber or "").strip() or f"PO{order.id}"
