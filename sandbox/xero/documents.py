"""Invoices (ACCREC/ACCPAY), credit notes (ACCRECCREDIT/ACCPAYCREDIT) and purchase orders: line items, tax,
totals, numbering, status transitions and balances — with the validation messages Xero gives.

Line arithmetic: UnitAmount is kept to 2 decimal places unless the write carries `unitdp=4`; LineAmount is
Quantity x UnitAmount less any discount, rounded half away from zero to 2 places; tax is per line from the
tax rate's EffectiveRate (Exclusive: LineAmount x r, Inclusive: LineAmount x r/(1+r), NoTax: none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .contacts import ARCHIVED_MESSAGE, IDENTIFY_MESSAGE, render_contact_summary, upsert_contact
from .org import Org, Record, ValidationFailed, WriteContext, new_id, norm
from .reference import find_tracking_option, tax_rate_usable_with
from .wire import HUNDRED, ZERO, date_string, fmt, money, ms_date, ms_datetime, quantize, utc_string

SALES_TYPES = ("ACCREC", "ACCRECCREDIT")
DISCOUNT_TYPES = ("ACCREC",)
_BLOCKED_SYSTEM_ACCOUNTS = {"DEBTORS", "CREDITORS", "GST", "GSTONIMPORTS", "RETAINEDEARNINGS", "UNPAIDEXPCLM",
                            "WAGEPAYABLES", "HISTORICAL", "TRACKINGTRANSFERS", "BANKCURRENCYGAIN",
                            "UNREALISEDCURRENCYGAIN", "REALISEDCURRENCYGAIN"}

_CONTACT_VIEW = {"ContactID": "Guid", "Name": "String", "ContactNumber": "String", "ContactStatus": "String",
                 "EmailAddress": "String", "AccountNumber": "String"}
_DOC_VIEW = {"Status": "String", "Reference": "String", "Date": "DateTime", "UpdatedDateUTC": "DateTime",
             "SubTotal": "Decimal", "TotalTax": "Decimal", "Total": "Decimal", "CurrencyCode": "String",
             "CurrencyRate": "Decimal", "LineAmountTypes": "String", "BrandingThemeID": "Guid",
             "SentToContact": "Boolean", "HasAttachments": "Boolean", "Contact": _CONTACT_VIEW,
             "FullyPaidOnDate": "DateTime"}
INVOICE_FIELDS = _DOC_VIEW | {"InvoiceID": "Guid", "Type": "String", "InvoiceNumber": "String",
                              "DueDate": "DateTime", "AmountDue": "Decimal", "AmountPaid": "Decimal",
                              "AmountCredited": "Decimal", "Url": "String", "IsDiscounted": "Boolean"}
CREDIT_NOTE_FIELDS = _DOC_VIEW | {"CreditNoteID": "Guid", "Type": "String", "CreditNoteNumber": "String",
                                  "DueDate": "DateTime", "RemainingCredit": "Decimal"}
PURCHASE_ORDER_FIELDS = _DOC_VIEW | {"PurchaseOrderID": "Guid", "PurchaseOrderNumber": "String",
                                     "DeliveryDate": "DateTime", "ExpectedArrivalDate": "DateTime"}


@dataclass(frozen=True)
class DocKind:
    name: str
    collection: str
    store: str
    id_field: str
    number_field: str
    category: str | None  # webhook eventCategory
    types: tuple[str, ...]
    numbered: dict[str, str]  # type -> auto-number prefix; these types have unique numbers
    duplicate_message: str
    noun: str
    create_statuses: tuple[str, ...]
    locked_statuses: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]]

    def records(self, org: Org) -> dict[str, Record]:
        result: dict[str, Record] = getattr(org, self.store)
        return result


_DOC_TRANSITIONS = {
    "DRAFT": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
    "SUBMITTED": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
    "AUTHORISED": ("AUTHORISED", "VOIDED"),
}
INVOICES = DocKind("Invoice", "Invoices", "invoices", "InvoiceID", "InvoiceNumber", "INVOICE", ("ACCREC", "ACCPAY"),
                   {"ACCREC": "INV-"}, "Invoice # must be unique.", "Invoice",
                   ("DRAFT", "SUBMITTED", "AUTHORISED"), ("PAID", "VOIDED", "DELETED"), _DOC_TRANSITIONS)
CREDIT_NOTES = DocKind("CreditNote", "CreditNotes", "credit_notes", "CreditNoteID", "CreditNoteNumber",
                       "CREDITNOTE", ("ACCRECCREDIT", "ACCPAYCREDIT"), {"ACCRECCREDIT": "CN-"},
                       "Credit Note # must be unique.", "Credit Note", ("DRAFT", "SUBMITTED", "AUTHORISED"),
                       ("PAID", "VOIDED", "DELETED"), _DOC_TRANSITIONS)
PURCHASE_ORDERS = DocKind("PurchaseOrder", "PurchaseOrders", "purchase_orders", "PurchaseOrderID",
                          "PurchaseOrderNumber", None, ("PURCHASEORDER",), {"PURCHASEORDER": "PO-"},
                          "Order number must be unique", "Purchase Order",
                          ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED"), ("DELETED",),
                          dict.fromkeys(("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED"),
                                        ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED")))


# ---------------------------------------------------------------------------------------------- lines


def _line_account(ctx: WriteContext, raw: dict[str, Any], details: dict[str, Any],
                  errors: list[str]) -> Record | None:
    org = ctx.org
    code = raw.get("AccountCode")
    if code is None and raw.get("AccountID"):
        by_id = org.accounts.get(raw["AccountID"])
        if by_id is None:
            errors.append(f"Account with AccountID '{raw['AccountID']}' is not a valid account for this document.")
            return None
        code = by_id["Code"]
    if code is None:
        code = details.get("AccountCode")
    if code is None or not str(code).strip():
        return None
    account = org.account_by_code(code)
    if account is None or account["Type"] == "BANK" or account.get("SystemAccount") in _BLOCKED_SYSTEM_ACCOUNTS:
        errors.append(f"Account code '{code}' is not a valid code for this document.")
        return None
    if account["Status"] != "ACTIVE":
        errors.append(f"Account code '{code}' has been archived, or has been deleted. "
                      "Each line item must reference a valid account.")
        return None
    return account


def _line_tracking(org: Org, raw: list[dict[str, Any]], errors: list[str]) -> list[Record]:
    if len(raw) > 2:
        errors.append("A line item can only have a maximum of 2 tracking categories.")
    out: list[Record] = []
    for entry in raw:
        category = org.tracking_category(category_id=entry.get("TrackingCategoryID"), name=entry.get("Name"))
        label = entry.get("Name") or entry.get("TrackingCategoryID") or ""
        if category is None or category["Status"] != "ACTIVE":
            errors.append(f"There is no ACTIVE tracking category with the name '{label}'")
            continue
        option = find_tracking_option(category, option_id=entry.get("TrackingOptionID"), name=entry.get("Option"))
        if option is None or option["Status"] != "ACTIVE":
            shown = entry.get("Option") or entry.get("TrackingOptionID") or ""
            errors.append(f"The tracking option '{shown}' is not a valid option for the tracking category "
                          f"'{category['Name']}'.")
            continue
        out.append({"TrackingCategoryID": category["TrackingCategoryID"],
                    "TrackingOptionID": option["TrackingOptionID"], "Name": category["Name"],
                    "Option": option["Name"]})
    return out


def _amounts(raw: dict[str, Any], unit_places: int, discounts: bool,
             errors: list[str]) -> tuple[Decimal | None, Decimal | None, Decimal, Decimal]:
    """(Quantity, UnitAmount, LineAmount, discount given away) for one line."""
    quantity, unit, given = raw.get("Quantity"), raw.get("UnitAmount"), raw.get("LineAmount")
    if quantity is not None:
        quantity = quantize(quantity, 4)
        if quantity < 0:
            errors.append(f"The quantity value '{fmt(quantity)}' is invalid. Quantity must not be less than zero.")
    if unit is not None:
        unit = quantize(unit, unit_places)
    if quantity is None and unit is None and given is None:
        return None, None, ZERO, ZERO
    if given is not None and (quantity is None or unit is None):
        given = money(given)
        if quantity is None and unit is None:
            return Decimal("1.0000"), quantize(given, unit_places), given, ZERO
        if quantity is None:
            quantity = quantize(given / unit, 4) if unit else Decimal("1.0000")
        else:
            unit = quantize(given / quantity, unit_places) if quantity else ZERO
        return quantity, unit, given, ZERO
    quantity = quantity if quantity is not None else Decimal("1.0000")
    unit = unit if unit is not None else ZERO
    gross = quantity * unit
    net = gross
    rate, amount = raw.get("DiscountRate"), raw.get("DiscountAmount")
    if discounts and rate is not None and rate != 0:
        if rate < 0 or rate > HUNDRED:
            errors.append(f"The discount rate '{fmt(money(rate))}' is invalid. "
                          "Discount must not be greater than the line total.")
        net = gross * (HUNDRED - rate) / HUNDRED
    elif discounts and amount is not None and amount != 0:
        if amount < 0 or amount > abs(gross):
            errors.append(f"The discount rate '{fmt(money(amount))}' is invalid. "
                          "Discount must not be greater than the line total.")
        net = gross - amount
    expected = money(net)
    if given is not None and money(given) != expected:
        errors.append(f"The line total {fmt(money(given))} does not match the expected line total {fmt(expected)}")
    return quantity, unit, expected, money(gross) - expected


def _line_tax(org: Org, raw: dict[str, Any], *, lat: str, details: dict[str, Any], account: Record | None,
              line_amount: Decimal, errors: list[str]) -> tuple[str | None, Decimal, bool]:
    """(TaxType, TaxAmount, whether the amount was given) for one line."""
    if lat == "NoTax":
        return "NONE", ZERO, False
    tax_type = raw.get("TaxType") or details.get("TaxType") or (account or {}).get("TaxType")
    if not tax_type:
        return None, ZERO, False
    rate = org.tax_rate(tax_type)
    if rate is None or rate["Status"] != "ACTIVE":
        errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
        return tax_type, ZERO, False
    if account is not None and not tax_rate_usable_with(org, tax_type, account):
        errors.append(f"The TaxType code '{tax_type}' cannot be used with account code '{account['Code']}'.")
        return tax_type, ZERO, False
    percent = rate["EffectiveRate"]
    if raw.get("TaxAmount") is not None:
        return rate["TaxType"], money(raw["TaxAmount"]), True
    if lat == "Inclusive":
        return rate["TaxType"], money(line_amount * percent / (HUNDRED + percent)), False
    return rate["TaxType"], money(line_amount * percent / HUNDRED), False


def build_line(ctx: WriteContext, raw: dict[str, Any], *, doc_type: str, lat: str, previous: dict[str, Record],
               require_account: bool) -> tuple[Record, list[str]]:
    org = ctx.org
    errors: list[str] = []
    item = None
    if raw.get("ItemCode") is not None:
        item = org.item_by_code(raw["ItemCode"])
        if item is None:
            errors.append(f"Item code '{raw['ItemCode']}' is not valid")
    sales = doc_type in SALES_TYPES
    details: dict[str, Any] = (item.get("SalesDetails" if sales else "PurchaseDetails") or {}) if item else {}
    source = dict(raw)
    if item and source.get("UnitAmount") is None and source.get("LineAmount") is None and "UnitPrice" in details:
        source["UnitAmount"] = details["UnitPrice"]
    discounts = doc_type in DISCOUNT_TYPES
    unit_places = 4 if ctx.unitdp == 4 or raw.get("_stored") else 2
    quantity, unit, line_amount, discount_given = _amounts(source, unit_places, discounts, errors)
    description = raw.get("Description")
    if description is None and item:
        description = item.get("Description" if sales else "PurchaseDescription") or item.get("Description")
    account = _line_account(ctx, raw, details, errors)
    if account is None and require_account and line_amount != 0 and not errors:
        errors.append("Account code must be specified for each line item.")
    tax_type, tax_amount, tax_given = _line_tax(org, raw, lat=lat, details=details, account=account,
                                                line_amount=line_amount, errors=errors)
    tracking = _line_tracking(org, raw.get("Tracking") or [], errors)

    previous_line = previous.get(str(raw.get("LineItemID") or "").lower())
    line: Record = {"LineItemID": previous_line["LineItemID"] if previous_line else (
        raw["LineItemID"] if ctx.trusted and raw.get("LineItemID") else new_id())}
    optional = {"Description": description, "Quantity": quantity, "UnitAmount": unit, "TaxType": tax_type}
    line.update({k: v for k, v in optional.items() if v is not None})
    if item is not None:
        line["ItemCode"] = item["Code"]
        line["Item"] = {"ItemID": item["ItemID"], "Name": item["Name"], "Code": item["Code"]}
    if account is not None:
        line["AccountCode"], line["AccountID"] = account["Code"], account["AccountID"]
    line["TaxAmount"], line["LineAmount"], line["Tracking"] = tax_amount, line_amount, tracking
    if tax_given:
        line["_TaxOverride"] = True
    if discounts and raw.get("DiscountRate") not in (None, ZERO):
        line["DiscountRate"] = money(raw["DiscountRate"])
    elif discounts and raw.get("DiscountAmount") not in (None, ZERO):
        line["DiscountAmount"] = money(raw["DiscountAmount"])
    line["_Discount"] = discount_given
    return line, errors


def _line_as_input(line: Record) -> dict[str, Any]:
    """A stored line turned back into what a client would send (to re-validate it on later edits)."""
    raw = {k: line[k] for k in ("LineItemID", "Description", "Quantity", "UnitAmount", "ItemCode", "AccountCode",
                                "TaxType", "DiscountRate", "DiscountAmount") if k in line}
    if line.get("_TaxOverride"):
        raw["TaxAmount"] = line["TaxAmount"]
    if "Quantity" not in line and "UnitAmount" not in line and line["LineAmount"] != 0:
        raw["LineAmount"] = line["LineAmount"]
    raw["_stored"] = True  # keeps the unit amount's decimal places when re-validated
    raw["Tracking"] = [{"TrackingCategoryID": t["TrackingCategoryID"], "TrackingOptionID": t["TrackingOptionID"]}
                       for t in line.get("Tracking", [])]
    return raw


def totals(lines: list[Record], lat: str) -> dict[str, Decimal]:
    line_sum = sum((line["LineAmount"] for line in lines), ZERO)
    tax = sum((line["TaxAmount"] for line in lines), ZERO) if lat != "NoTax" else ZERO
    discount = sum((line.get("_Discount", ZERO) for line in lines), ZERO)
    if lat == "Inclusive":
        return {"SubTotal": money(line_sum - tax), "TotalTax": money(tax), "Total": money(line_sum),
                "TotalDiscount": money(discount)}
    return {"SubTotal": money(line_sum), "TotalTax": money(tax), "Total": money(line_sum + tax),
            "TotalDiscount": money(discount)}


# ---------------------------------------------------------------------------------------------- balances


def has_allocations(org: Org, kind: DocKind, record: Record) -> bool:
    doc_id = record[kind.id_field]
    if kind is INVOICES:
        return any(p["Status"] == "AUTHORISED" and p.get("InvoiceID") == doc_id for p in org.payments.values()) \
            or any(not a["IsDeleted"] and a["InvoiceID"] == doc_id for a in org.allocations.values())
    if kind is CREDIT_NOTES:
        return any(p["Status"] == "AUTHORISED" and p.get("CreditNoteID") == doc_id for p in org.payments.values()) \
            or any(not a["IsDeleted"] and a["CreditNoteID"] == doc_id for a in org.allocations.values())
    return False


def refresh_balances(org: Org, kind: DocKind, record: Record) -> None:
    """AmountDue/AmountPaid/AmountCredited (or RemainingCredit) and the PAID ⇄ AUTHORISED switch."""
    if kind is PURCHASE_ORDERS:
        return
    doc_id = record[kind.id_field]
    own = "InvoiceID" if kind is INVOICES else "CreditNoteID"
    payments = [p for p in org.payments.values() if p["Status"] == "AUTHORISED" and p.get(own) == doc_id]
    allocations = [a for a in org.allocations.values() if not a["IsDeleted"] and a[own] == doc_id]
    paid = sum((p["Amount"] for p in payments), ZERO)
    allocated = sum((a["Amount"] for a in allocations), ZERO)
    settled_on = max([p["Date"] for p in payments] + [a["Date"] for a in allocations], default=record["Date"])
    if kind is INVOICES:
        record["AmountPaid"], record["AmountCredited"] = money(paid), money(allocated)
    outstanding = money(record["Total"] - paid - allocated)
    if record["Status"] in ("VOIDED", "DELETED"):
        outstanding = ZERO
    if kind is INVOICES:
        record["AmountDue"] = outstanding
    else:
        record["RemainingCredit"] = outstanding
    if record["Status"] == "AUTHORISED" and outstanding == 0:
        record["Status"] = "PAID"
        record["FullyPaidOnDate"] = settled_on
    elif record["Status"] == "PAID" and outstanding > 0:
        record["Status"] = "AUTHORISED"
        record.pop("FullyPaidOnDate", None)


# ---------------------------------------------------------------------------------------------- saving


def _resolve_contact(ctx: WriteContext, given: dict[str, Any] | None, created: bool,
                     errors: list[str]) -> tuple[Record | None, dict[str, Any] | None]:
    """(existing contact, or the payload of a contact to create) for a document's Contact element."""
    org = ctx.org
    if not given or not any(given.get(k) for k in ("ContactID", "ContactNumber", "Name")):
        errors.append(IDENTIFY_MESSAGE)
        return None, None
    found: Record | None = None
    if given.get("ContactID"):
        found = org.contacts.get(given["ContactID"])
        if found is None:
            errors.append(f"A contact with the ContactID {given['ContactID']} could not be found.")
            return None, None
    elif given.get("ContactNumber") and org.contact_by_number(given["ContactNumber"]):
        found = org.contact_by_number(given["ContactNumber"])
    elif given.get("Name"):
        named = org.contacts_named(given["Name"])
        found = next((c for c in named if c["ContactStatus"] == "ACTIVE"), named[0] if named else None)
        if found is None:
            return None, {k: v for k, v in given.items() if k != "ContactID"}
    else:
        errors.append("Contact Name cannot be empty.")
        return None, None
    if created and found is not None and found["ContactStatus"] == "ARCHIVED":
        errors.append(ARCHIVED_MESSAGE)
    return found, None


def _number_taken(org: Org, kind: DocKind, number: str, exclude: str | None) -> bool:
    return any(r["Type"] in kind.numbered and r["Status"] != "DELETED" and r[kind.id_field] != exclude
               for r in org.documents_numbered(kind.store, kind.id_field, kind.number_field, number))


def find_by_number(org: Org, kind: DocKind, number: str | None) -> Record | None:
    wanted = norm(number)
    if not wanted:
        return None
    candidates = [r for r in org.documents_numbered(kind.store, kind.id_field, kind.number_field, wanted)
                  if r["Status"] != "DELETED"]
    candidates.sort(key=lambda r: (r["Type"] not in kind.numbered, r["_seq"]))
    return candidates[0] if candidates else None


def _check_status(kind: DocKind, org: Org, payload: dict[str, Any], existing: Record | None) -> str:
    if existing is None:
        status = payload.get("Status") or "DRAFT"
        if status not in kind.create_statuses:
            raise ValidationFailed(f"{kind.noun} not of valid status for creation")
        return status
    current = existing["Status"]
    if current in kind.locked_statuses:
        raise ValidationFailed(f"{kind.noun} not of valid status for modification")
    if current == "AUTHORISED" and has_allocations(org, kind, existing):
        raise ValidationFailed("This document cannot be edited as it has a payment or credit note allocated to it.")
    target = payload.get("Status") or current
    if target not in kind.transitions.get(current, ()):
        raise ValidationFailed(f"{kind.noun} not of valid status for modification")
    return target


def _changed(before: Record | None, after: Record) -> bool:
    if before is None:
        return True
    return any(after.get(k) != before.get(k) for k in set(after) | set(before) if k != "UpdatedDateUTC")


def _finish(ctx: WriteContext, kind: DocKind, record: Record, before: Record | None, *,
            announce: bool = True) -> Record:
    refresh_balances(ctx.org, kind, record)
    if _changed(before, record):
        if not (ctx.trusted and before is None and record.get("UpdatedDateUTC")):
            record["UpdatedDateUTC"] = ctx.now
        kind.records(ctx.org)[record[kind.id_field]] = record
        ctx.org.index_number(kind.store, kind.id_field, kind.number_field, record)
        if kind.category and announce:
            data = {"Type": record["Type"], "Status": record["Status"]} if kind is CREDIT_NOTES else None
            ctx.emit(kind.category, "CREATE" if before is None else "UPDATE", record[kind.id_field], data)
    return record


def _validate_header(ctx: WriteContext, kind: DocKind, doc_type: str, payload: dict[str, Any], *,
                     existing: Record | None, errors: list[str]) -> tuple[str | None, str]:
    """(number, currency) after checking number uniqueness, currency and branding theme."""
    org = ctx.org
    number = payload.get(kind.number_field, existing.get(kind.number_field) if existing else None)
    number = number.strip() if isinstance(number, str) else number
    if doc_type in kind.numbered and number and _number_taken(org, kind, number,
                                                                existing[kind.id_field] if existing else None):
        errors.append(kind.duplicate_message)
    currency = str(payload.get("CurrencyCode") or (existing or {}).get("CurrencyCode") or org.base_currency).upper()
    if currency not in org.currencies:
        errors.append(f"The currency code '{currency}' is not valid for this organisation.")
    theme = payload.get("BrandingThemeID")
    if theme and theme not in org.branding:
        errors.append(f"The BrandingThemeID '{theme}' is not valid.")
    return number, currency


_COPIED = ("DueDate", "DeliveryDate", "ExpectedArrivalDate", "ExpectedPaymentDate", "PlannedPaymentDate",
           "Reference", "Url", "BrandingThemeID", "SentToContact", "DeliveryAddress", "AttentionTo", "Telephone",
           "DeliveryInstructions")


def save_document(ctx: WriteContext, kind: DocKind, payload: dict[str, Any],
                  existing: Record | None) -> tuple[Record, bool]:
    """Create (existing None) or update a document. Raises ValidationFailed carrying every message."""
    org = ctx.org
    status = _check_status(kind, org, payload, existing)
    if existing is not None and status in ("VOIDED", "DELETED"):
        return _finish(ctx, kind, dict(existing, Status=status), dict(existing)), False
    doc_type = existing["Type"] if existing else ("PURCHASEORDER" if kind is PURCHASE_ORDERS else payload.get("Type"))
    if doc_type not in kind.types:
        raise ValidationFailed(f"{kind.noun} Type must be specified." if doc_type is None else
                               f"{kind.noun} Type '{doc_type}' is not valid for this endpoint.")

    errors: list[str] = []
    contact, pending_contact = (None, None)
    if existing is None or "Contact" in payload:
        contact, pending_contact = _resolve_contact(ctx, payload.get("Contact"), existing is None, errors)
    number, currency = _validate_header(ctx, kind, doc_type, payload, existing=existing, errors=errors)
    lat = payload.get("LineAmountTypes") or (existing or {}).get("LineAmountTypes") or "Exclusive"
    previous = {line["LineItemID"]: line for line in (existing or {}).get("LineItems", [])}
    raw_lines = payload["LineItems"] if "LineItems" in payload else [
        _line_as_input(line) for line in (existing or {}).get("LineItems", [])]
    lines: list[Record] = []
    for raw in raw_lines:
        line, line_errors = build_line(ctx, raw, doc_type=doc_type, lat=lat, previous=previous,
                                       require_account=kind is not PURCHASE_ORDERS and status == "AUTHORISED")
        lines.append(line)
        errors.extend(line_errors)
    if errors:
        raise ValidationFailed(*dict.fromkeys(errors))

    if pending_contact is not None:
        contact, _ = upsert_contact(ctx, pending_contact, None)
    if doc_type in kind.numbered and not number:
        number = org.next_number(kind.numbered[doc_type], lambda n: _number_taken(org, kind, n, None))
    before = dict(existing) if existing else None
    record: Record = dict(existing) if existing else {
        kind.id_field: payload.get(kind.id_field) if ctx.trusted and payload.get(kind.id_field) else new_id(),
        "Type": doc_type, "_seq": len(kind.records(org)) + 1, "HasAttachments": False, "SentToContact": False,
    }
    if contact is not None:
        record["ContactID"] = contact["ContactID"]
    record.update({kind.number_field: number or "", "Status": status, "LineAmountTypes": lat,
                   "CurrencyCode": currency, "LineItems": lines,
                   "CurrencyRate": payload.get("CurrencyRate") or record.get("CurrencyRate") or Decimal(1),
                   "Date": payload.get("Date") or record.get("Date") or ctx.today})
    record.update({key: payload[key] for key in _COPIED if key in payload})
    if doc_type not in SALES_TYPES and kind is not PURCHASE_ORDERS:
        record.pop("Reference", None)  # "ACCREC only - additional reference number"
    record.update(totals(lines, lat))
    if existing is None and contact is not None and kind is not PURCHASE_ORDERS:
        contact["IsCustomer" if doc_type in SALES_TYPES else "IsSupplier"] = True
    return _finish(ctx, kind, record, before), existing is None


def set_status(ctx: WriteContext, kind: DocKind, record: Record) -> Record:
    """Recompute balances after a payment or allocation changed, bumping the document's UpdatedDateUTC.
    Whether Xero also sends an INVOICE/CREDITNOTE webhook event for that is undocumented: announced only when
    the simulator's `settlement_events` is on (see sandbox/xero/README.md, Webhooks)."""
    before = dict(record)
    return _finish(ctx, kind, dict(record), before, announce=ctx.settlement_events)


# ---------------------------------------------------------------------------------------------- rendering


def render_line(line: Record, unitdp: int) -> Record:
    out: Record = {}
    if "ItemCode" in line:
        out["ItemCode"] = line["ItemCode"]
    if "Description" in line:
        out["Description"] = line["Description"]
    if "UnitAmount" in line:
        out["UnitAmount"] = quantize(line["UnitAmount"], 4 if unitdp == 4 else 2)
    if "TaxType" in line:
        out["TaxType"] = line["TaxType"]
    out["TaxAmount"] = line["TaxAmount"]
    out["LineAmount"] = line["LineAmount"]
    if "AccountCode" in line:
        out["AccountCode"] = line["AccountCode"]
        out["AccountID"] = line["AccountID"]
    if "Item" in line:
        out["Item"] = dict(line["Item"])
    out["Tracking"] = [dict(t) for t in line.get("Tracking", [])]
    if "Quantity" in line:
        out["Quantity"] = line["Quantity"]
    for key in ("DiscountRate", "DiscountAmount"):
        if key in line:
            out[key] = line[key]
    out["LineItemID"] = line["LineItemID"]
    out["ValidationErrors"] = []
    return out


def _dates(out: Record, record: Record, *names: str) -> None:
    for name in names:
        value: date | None = record.get(name)
        if value is not None:
            out[f"{name}String"] = date_string(value)
            out[name] = ms_date(value)


def render_payment_stub(payment: Record) -> Record:
    out: Record = {"PaymentID": payment["PaymentID"], "Date": ms_date(payment["Date"]), "Amount": payment["Amount"]}
    if payment.get("Reference"):
        out["Reference"] = payment["Reference"]
    out.update({"CurrencyRate": quantize(payment["CurrencyRate"], 6), "HasAccount": False,
                "HasValidationErrors": False})
    return out


def _render_balances(org: Org, kind: DocKind, record: Record, out: Record, nested: bool) -> None:
    own = "InvoiceID" if kind is INVOICES else "CreditNoteID"
    if kind is not PURCHASE_ORDERS and not nested:
        out["Payments"] = [render_payment_stub(p) for p in org.payments.values()
                           if p["Status"] == "AUTHORISED" and p.get(own) == record[kind.id_field]]
    if kind is INVOICES:
        if not nested:
            out["CreditNotes"] = _credit_stubs(org, record)
        out.update({"Prepayments": [], "Overpayments": [], "AmountDue": record["AmountDue"],
                    "AmountPaid": record["AmountPaid"], "AmountCredited": record["AmountCredited"]})
    if kind is CREDIT_NOTES:
        out["RemainingCredit"] = record["RemainingCredit"]
        if not nested:
            out["Allocations"] = [_allocation_stub(org, a) for a in org.allocations.values()
                                  if not a["IsDeleted"] and a["CreditNoteID"] == record["CreditNoteID"]]


def render_document(org: Org, kind: DocKind, record: Record, *, unitdp: int = 2, lines: bool = True,
                    nested: bool = False) -> Record:
    out: Record = {} if kind is PURCHASE_ORDERS else {"Type": record["Type"]}
    out[kind.id_field] = record[kind.id_field]
    out[kind.number_field] = record.get(kind.number_field, "")
    if kind is CREDIT_NOTES:
        out["ID"] = record["CreditNoteID"]
    if kind is not INVOICES or record["Type"] in SALES_TYPES or "Reference" in record:
        out["Reference"] = record.get("Reference", "")
    _render_balances(org, kind, record, out, nested)
    out["SentToContact"] = bool(record.get("SentToContact"))
    out["CurrencyRate"] = quantize(record["CurrencyRate"], 6)
    if kind is INVOICES:
        out["IsDiscounted"] = record.get("TotalDiscount", ZERO) > 0
    out["HasAttachments"] = False
    out["HasErrors"] = False
    contact = org.contacts.get(record.get("ContactID", ""))
    if contact is not None:
        out["Contact"] = render_contact_summary(contact)
    _dates(out, record, "Date", "DueDate", "DeliveryDate", "ExpectedArrivalDate", "ExpectedPaymentDate",
           "PlannedPaymentDate")
    for key in ("BrandingThemeID", "Url", "DeliveryAddress", "AttentionTo", "Telephone", "DeliveryInstructions"):
        if record.get(key):
            out[key] = record[key]
    out.update({"Status": record["Status"], "LineAmountTypes": record["LineAmountTypes"],
                "LineItems": [render_line(line, unitdp) for line in record["LineItems"]] if lines else [],
                "SubTotal": record["SubTotal"], "TotalTax": record["TotalTax"], "Total": record["Total"]})
    if record.get("TotalDiscount", ZERO) > 0:
        out["TotalDiscount"] = record["TotalDiscount"]
    out["UpdatedDateUTC"] = ms_datetime(record["UpdatedDateUTC"])
    if kind is not PURCHASE_ORDERS:
        out["UpdatedDateUTCString"] = utc_string(record["UpdatedDateUTC"])
    out["CurrencyCode"] = record["CurrencyCode"]
    if record.get("FullyPaidOnDate") is not None:
        out["FullyPaidOnDate"] = ms_date(record["FullyPaidOnDate"])
    return out


def _credit_stubs(org: Org, invoice: Record) -> list[Record]:
    applied: dict[str, Decimal] = {}
    for allocation in org.allocations.values():
        if not allocation["IsDeleted"] and allocation["InvoiceID"] == invoice["InvoiceID"]:
            applied[allocation["CreditNoteID"]] = applied.get(allocation["CreditNoteID"], ZERO) + allocation["Amount"]
    stubs = []
    for credit_id, amount in applied.items():
        note = org.credit_notes[credit_id]
        stub: Record = {"CreditNoteID": credit_id, "CreditNoteNumber": note.get("CreditNoteNumber", ""),
                        "ID": credit_id, "AppliedAmount": money(amount)}
        _dates(stub, note, "Date")
        stub.update({"Total": note["Total"], "HasErrors": False})
        stubs.append(stub)
    return stubs


def _allocation_stub(org: Org, allocation: Record) -> Record:
    out: Record = {"AllocationID": allocation["AllocationID"], "Amount": allocation["Amount"],
                   "Date": ms_date(allocation["Date"])}
    invoice = org.invoices[allocation["InvoiceID"]]
    out["Invoice"] = {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice.get("InvoiceNumber", ""),
                      "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                      "HasErrors": False, "IsDiscounted": False, "LineItems": []}
    return out


def document_view(org: Org, record: Record) -> Record:
    view = dict(record)
    contact = org.contacts.get(record.get("ContactID", ""))
    view["Contact"] = contact or {}
    return view
