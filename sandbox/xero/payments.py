"""Payments (against AUTHORISED invoices and credit notes) and credit-note allocations.

A payment or an allocation changes the document it settles: AmountDue falls, the document turns PAID
(with FullyPaidOnDate) when nothing is left, and deleting the payment/allocation re-opens it. Each of these
bumps the document's UpdatedDateUTC ("the timestamp of the last edit", Xero's dates-and-timestamps guide);
whether Xero also sends an INVOICE or CREDITNOTE webhook event for it is not documented, so the simulator
sends one only with `settlement_events` on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .documents import CREDIT_NOTES, INVOICES, DocKind, find_by_number, render_document, set_status
from .org import Record, ValidationFailed, WriteContext, new_id
from .wire import money, ms_date, ms_datetime, quantize, utc_string

PAYMENT_FIELDS = {
    "PaymentID": "Guid", "Status": "String", "PaymentType": "String", "Amount": "Decimal", "Date": "DateTime",
    "Reference": "String", "UpdatedDateUTC": "DateTime", "IsReconciled": "Boolean", "BankAmount": "Decimal",
    "CurrencyRate": "Decimal", "Invoice": {"InvoiceID": "Guid", "InvoiceNumber": "String", "Type": "String"},
    "CreditNote": {"CreditNoteID": "Guid", "CreditNoteNumber": "String", "Type": "String"},
    "Account": {"AccountID": "Guid", "Code": "String"},
}
PAYMENT_TYPES = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT",
                 "ACCPAYCREDIT": "APCREDITPAYMENT"}
ALLOCATION_EXCEEDS = "Credit Note cannot be allocated as amount is greater than amount outstanding"


def _target(ctx: WriteContext, payload: dict[str, Any]) -> tuple[DocKind, Record]:
    org = ctx.org
    invoice = dict(payload.get("Invoice") or {})
    if payload.get("InvoiceNumber"):
        invoice.setdefault("InvoiceNumber", payload["InvoiceNumber"])
    credit = dict(payload.get("CreditNote") or {})
    if payload.get("CreditNoteNumber"):
        credit.setdefault("CreditNoteNumber", payload["CreditNoteNumber"])
    kind, ref, id_field = (INVOICES, invoice, "InvoiceID") if invoice or not credit else (
        CREDIT_NOTES, credit, "CreditNoteID")
    if not ref:
        raise ValidationFailed("You must specify either an Invoice, CreditNote, Prepayment or Overpayment "
                               "to apply the payment to.")
    record = kind.records(org).get(ref[id_field]) if ref.get(id_field) else \
        find_by_number(org, kind, ref.get(kind.number_field))
    if record is None:
        raise ValidationFailed("The document with the supplied id was not found for this endpoint.")
    return kind, record


def _account(ctx: WriteContext, payload: dict[str, Any]) -> Record:
    org = ctx.org
    given = dict(payload.get("Account") or {})
    if payload.get("Code"):
        given.setdefault("Code", payload["Code"])
    if not given:
        raise ValidationFailed("Account code or AccountID must be specified for a payment.")
    account = org.accounts.get(given["AccountID"]) if given.get("AccountID") else org.account_by_code(given.get("Code"))
    if account is None:
        raise ValidationFailed("The account specified for the payment could not be found.")
    if account["Status"] != "ACTIVE" or not (account["Type"] == "BANK" or account.get("EnablePaymentsToAccount")):
        raise ValidationFailed(f"Account code '{account['Code']}' is not a bank account and does not have "
                               "payments enabled.")
    return account


def create_payment(ctx: WriteContext, payload: dict[str, Any]) -> Record:
    kind, document = _target(ctx, payload)
    account = _account(ctx, payload)
    errors: list[str] = []
    if document["Status"] != "AUTHORISED":
        errors.append("Payments can only be made against Authorised documents")
    amount = payload.get("Amount")
    if amount is None or money(amount) <= 0:
        errors.append("Payment amount must be greater than zero.")
    else:
        amount = money(amount)
        outstanding = document["AmountDue"] if kind is INVOICES else document["RemainingCredit"]
        if document["Status"] == "AUTHORISED" and amount > outstanding:
            errors.append("Payment amount exceeds the amount outstanding on this document")
    if errors:
        raise ValidationFailed(*errors)
    assert amount is not None
    own = "InvoiceID" if kind is INVOICES else "CreditNoteID"
    payment: Record = {
        "PaymentID": payload["PaymentID"] if ctx.trusted and payload.get("PaymentID") else new_id(),
        own: document[kind.id_field], "AccountID": account["AccountID"], "Date": payload.get("Date") or ctx.today,
        "Amount": amount, "BankAmount": amount, "Reference": payload.get("Reference", ""),
        "CurrencyRate": payload.get("CurrencyRate") or Decimal(1), "PaymentType": PAYMENT_TYPES[document["Type"]],
        "Status": "AUTHORISED", "IsReconciled": bool(payload.get("IsReconciled", False)), "UpdatedDateUTC": ctx.now,
        "_seq": len(ctx.org.payments) + 1,
    }
    ctx.org.payments[payment["PaymentID"]] = payment
    set_status(ctx, kind, document)
    return payment


def delete_payment(ctx: WriteContext, payment: Record, payload: dict[str, Any]) -> Record:
    """POST /Payments/{id} with Status DELETED: the payment goes, the document re-opens."""
    if payload.get("Status") != "DELETED":
        raise ValidationFailed("A payment can only be updated to a Status of DELETED.")
    if payment["Status"] == "DELETED":
        raise ValidationFailed("This payment has already been deleted.")
    updated = dict(payment, Status="DELETED", UpdatedDateUTC=ctx.now)
    ctx.org.payments[payment["PaymentID"]] = updated
    kind = INVOICES if payment.get("InvoiceID") else CREDIT_NOTES
    own = "InvoiceID" if kind is INVOICES else "CreditNoteID"
    set_status(ctx, kind, kind.records(ctx.org)[payment[own]])
    return updated


def render_payment(ctx_org: Any, payment: Record) -> Record:
    org = ctx_org
    out: Record = {"PaymentID": payment["PaymentID"], "Date": ms_date(payment["Date"]),
                   "BankAmount": payment["BankAmount"], "Amount": payment["Amount"]}
    if payment.get("Reference"):
        out["Reference"] = payment["Reference"]
    out.update({"CurrencyRate": quantize(payment["CurrencyRate"], 6), "PaymentType": payment["PaymentType"],
                "Status": payment["Status"], "UpdatedDateUTC": ms_datetime(payment["UpdatedDateUTC"]),
                "UpdatedDateUTCString": utc_string(payment["UpdatedDateUTC"]), "HasAccount": True,
                "IsReconciled": payment["IsReconciled"]})
    account = org.accounts.get(payment["AccountID"])
    if account is not None:
        out["Account"] = {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]}
    if payment.get("InvoiceID"):
        out["Invoice"] = render_document(org, INVOICES, org.invoices[payment["InvoiceID"]], lines=False, nested=True)
    else:
        out["CreditNote"] = render_document(org, CREDIT_NOTES, org.credit_notes[payment["CreditNoteID"]],
                                            lines=False, nested=True)
    out["HasValidationErrors"] = False
    return out


def payment_view(org: Any, payment: Record) -> Record:
    view = dict(payment)
    view["Invoice"] = org.invoices.get(payment.get("InvoiceID", ""), {})
    view["CreditNote"] = org.credit_notes.get(payment.get("CreditNoteID", ""), {})
    view["Account"] = org.accounts.get(payment["AccountID"], {})
    return view


# ---------------------------------------------------------------------------------------------- allocations


def create_allocation(ctx: WriteContext, credit_note: Record, payload: dict[str, Any]) -> Record:
    org = ctx.org
    reference = payload.get("Invoice") or {}
    invoice = org.invoices.get(reference.get("InvoiceID", "")) if reference.get("InvoiceID") else \
        find_by_number(org, INVOICES, reference.get("InvoiceNumber"))
    if invoice is None:
        raise ValidationFailed("The document with the supplied id was not found for this endpoint.")
    errors: list[str] = []
    if credit_note["Status"] != "AUTHORISED":
        errors.append("Credit Note must be AUTHORISED before it can be allocated.")
    if invoice["Status"] != "AUTHORISED":
        errors.append("Invoice must be AUTHORISED before a credit note can be allocated to it.")
    expected_type = "ACCREC" if credit_note["Type"] == "ACCRECCREDIT" else "ACCPAY"
    if invoice["Type"] != expected_type:
        errors.append(f"A {credit_note['Type']} credit note can only be allocated to an {expected_type} invoice.")
    if invoice.get("ContactID") != credit_note.get("ContactID"):
        errors.append("The credit note and the invoice must belong to the same contact.")
    amount = payload.get("Amount")
    if amount is None or money(amount) <= 0:
        errors.append("Allocation amount must be greater than zero.")
    elif money(amount) > credit_note["RemainingCredit"] or money(amount) > invoice["AmountDue"]:
        errors.append(ALLOCATION_EXCEEDS)
    if errors:
        raise ValidationFailed(*errors)
    assert amount is not None
    allocation: Record = {"AllocationID": new_id(), "CreditNoteID": credit_note["CreditNoteID"],
                          "InvoiceID": invoice["InvoiceID"], "Amount": money(amount),
                          "Date": payload.get("Date") or ctx.today, "IsDeleted": False}
    org.allocations[allocation["AllocationID"]] = allocation
    set_status(ctx, INVOICES, invoice)
    set_status(ctx, CREDIT_NOTES, credit_note)
    return allocation


def delete_allocation(ctx: WriteContext, allocation: Record) -> Record:
    org = ctx.org
    updated = dict(allocation, IsDeleted=True)
    org.allocations[allocation["AllocationID"]] = updated
    set_status(ctx, INVOICES, org.invoices[allocation["InvoiceID"]])
    set_status(ctx, CREDIT_NOTES, org.credit_notes[allocation["CreditNoteID"]])
    return updated


def render_allocation(org: Any, allocation: Record, *, with_status: bool = True) -> Record:
    invoice = org.invoices[allocation["InvoiceID"]]
    note = org.credit_notes[allocation["CreditNoteID"]]
    out: Record = {"AllocationID": allocation["AllocationID"], "Amount": allocation["Amount"],
                   "Date": ms_date(allocation["Date"]),
                   "Invoice": render_document(org, INVOICES, invoice, lines=False, nested=True),
                   "CreditNote": {"CreditNoteID": note["CreditNoteID"], "ID": note["CreditNoteID"],
                                  "CreditNoteNumber": note.get("CreditNoteNumber", ""), "LineItems": []}}
    if allocation["IsDeleted"]:
        out["IsDeleted"] = True
    if with_status:
        out["StatusAttributeString"] = "OK"
    out["ValidationErrors"] = []
    return out
