"""Contacts: the uniqueness rules that bite a sync (Name among ACTIVE contacts, ContactNumber among all),
create-or-update matching, archiving, and the wire rendering.

Names and numbers compare without regard to case or surrounding spaces ("pohutukawa dental" blocks
"Pohutukawa Dental"); the `where` filter, by contrast, compares strings exactly (use `Name.ToLower()`).
"""

from __future__ import annotations

import re
from typing import Any

from .org import Org, Record, ValidationFailed, WriteContext, new_id
from .wire import ms_datetime

CONTACT_FIELDS = {
    "ContactID": "Guid", "ContactNumber": "String", "AccountNumber": "String", "ContactStatus": "String",
    "Name": "String", "FirstName": "String", "LastName": "String", "CompanyNumber": "String",
    "EmailAddress": "String", "TaxNumber": "String", "IsSupplier": "Boolean", "IsCustomer": "Boolean",
    "DefaultCurrency": "String", "UpdatedDateUTC": "DateTime", "HasAttachments": "Boolean",
    "AccountsReceivableTaxType": "String", "AccountsPayableTaxType": "String", "Website": "String",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SIMPLE = ("ContactNumber", "AccountNumber", "Name", "FirstName", "LastName", "CompanyNumber", "EmailAddress",
           "BankAccountDetails", "TaxNumber", "AccountsReceivableTaxType", "AccountsPayableTaxType",
           "DefaultCurrency", "Website", "SalesDefaultAccountCode", "PurchasesDefaultAccountCode", "ContactStatus")
_ADDRESS_TYPES = ("STREET", "POBOX")
_PHONE_TYPES = ("DEFAULT", "DDI", "FAX", "MOBILE")


def name_taken_message(name: str) -> str:
    return (f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts.")


def number_taken_message(number: str) -> str:
    return (f"The contact number {number} is already assigned to another contact. "
            "The contact number must be unique across all contacts.")


ARCHIVED_MESSAGE = ("The contact with the specified contact details has been archived. "
                    "The contact must be un-archived before creating new invoices or credit notes.")
IDENTIFY_MESSAGE = ("The Contact must contain at least 1 of the following elements to identify the contact: "
                    "Name, ContactID, ContactNumber")


def _merge_typed(existing: list[Record], given: list[Record], key: str) -> list[Record]:
    merged = {item[key]: dict(item) for item in existing}
    for item in given:
        kind = item.get(key)
        if kind is None:
            continue
        merged[kind] = {**merged.get(kind, {}), **item}
    return list(merged.values())


def validate_contact(org: Org, record: Record, existing: Record | None) -> list[str]:
    errors: list[str] = []
    name = str(record.get("Name") or "").strip()
    if not name:
        errors.append("Contact Name cannot be empty.")
    elif record.get("ContactStatus", "ACTIVE") == "ACTIVE":
        for other in org.contacts_named(name):
            if (existing is None or other["ContactID"] != existing["ContactID"]) and other["ContactStatus"] == "ACTIVE":
                errors.append(name_taken_message(record["Name"]))
                break
    number = record.get("ContactNumber")
    if number:
        other = org.contact_by_number(number)
        if other is not None and (existing is None or other["ContactID"] != existing["ContactID"]):
            errors.append(number_taken_message(number))
    email = record.get("EmailAddress")
    if email and not _EMAIL.match(email):
        errors.append("Email address must be valid.")
    for key in ("AccountsReceivableTaxType", "AccountsPayableTaxType"):
        tax_type = record.get(key)
        if tax_type and org.tax_rate(tax_type) is None:
            errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
    currency = record.get("DefaultCurrency")
    if currency and currency.upper() not in org.currencies:
        errors.append(f"The currency code '{currency}' is not valid for this organisation.")
    return errors


def find_for_upsert(org: Org, payload: dict[str, Any]) -> Record | None:
    """POST /Contacts matches on ContactID, else on the Name of an ACTIVE contact."""
    contact_id = payload.get("ContactID")
    if contact_id:
        existing = org.contacts.get(contact_id)
        if existing is None:
            raise ValidationFailed(f"A contact with the ContactID {contact_id} could not be found.")
        return existing
    return next((c for c in org.contacts_named(payload.get("Name")) if c["ContactStatus"] == "ACTIVE"), None)


def upsert_contact(ctx: WriteContext, payload: dict[str, Any], existing: Record | None) -> tuple[Record, bool]:
    """Create (existing None) or update a contact; raises ValidationFailed with Xero's messages."""
    org = ctx.org
    before = dict(existing) if existing else None
    record: Record = dict(existing) if existing else {
        "ContactID": payload.get("ContactID") if ctx.trusted and payload.get("ContactID") else new_id(),
        "ContactStatus": "ACTIVE", "EmailAddress": "", "BankAccountDetails": "", "Addresses": [], "Phones": [],
        "ContactPersons": [], "IsSupplier": False, "IsCustomer": False,
    }
    for key in _SIMPLE:
        if key in payload:
            record[key] = payload[key]
    if ctx.trusted:
        for key in ("IsSupplier", "IsCustomer"):
            if key in payload:
                record[key] = payload[key]
    if "Addresses" in payload:
        record["Addresses"] = _merge_typed(record.get("Addresses", []), payload["Addresses"], "AddressType")
    if "Phones" in payload:
        record["Phones"] = _merge_typed(record.get("Phones", []), payload["Phones"], "PhoneType")
    if "ContactPersons" in payload:
        record["ContactPersons"] = [dict(p) for p in payload["ContactPersons"]]
    if "PaymentTerms" in payload:
        record["PaymentTerms"] = dict(payload["PaymentTerms"])
    errors = validate_contact(org, record, existing)
    if errors:
        raise ValidationFailed(*errors)
    changed = before is None or any(record.get(k) != before.get(k) for k in set(record) | set(before)
                                    if k != "UpdatedDateUTC")
    if changed:
        record["UpdatedDateUTC"] = ctx.now
        org.contacts[record["ContactID"]] = record
        ctx.emit("CONTACT", "CREATE" if before is None else "UPDATE", record["ContactID"], None)
    return record, before is None


def _full_addresses(record: Record) -> list[Record]:
    given = {a.get("AddressType"): a for a in record.get("Addresses", [])}
    out = []
    for kind in _ADDRESS_TYPES:
        address = {"AddressType": kind, "City": "", "Region": "", "PostalCode": "", "Country": ""}
        address.update(given.get(kind, {}))
        out.append(address)
    return out


def _full_phones(record: Record) -> list[Record]:
    given = {p.get("PhoneType"): p for p in record.get("Phones", [])}
    kinds = list(_PHONE_TYPES) + [k for k in given if k not in _PHONE_TYPES]
    return [{"PhoneType": k, "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": "", **given.get(k, {})}
            for k in kinds]


def render_contact(record: Record) -> Record:
    out: Record = {"ContactID": record["ContactID"]}
    for key in ("ContactNumber", "AccountNumber"):
        if record.get(key):
            out[key] = record[key]
    out["ContactStatus"] = record["ContactStatus"]
    out["Name"] = record["Name"]
    for key in ("FirstName", "LastName", "CompanyNumber"):
        if record.get(key):
            out[key] = record[key]
    out["EmailAddress"] = record.get("EmailAddress", "")
    out["BankAccountDetails"] = record.get("BankAccountDetails", "")
    for key in ("TaxNumber", "AccountsReceivableTaxType", "AccountsPayableTaxType"):
        if record.get(key):
            out[key] = record[key]
    out["Addresses"] = _full_addresses(record)
    out["Phones"] = _full_phones(record)
    out["UpdatedDateUTC"] = ms_datetime(record["UpdatedDateUTC"])
    out["ContactGroups"] = []
    out["IsSupplier"] = bool(record.get("IsSupplier"))
    out["IsCustomer"] = bool(record.get("IsCustomer"))
    for key in ("DefaultCurrency", "SalesDefaultAccountCode", "PurchasesDefaultAccountCode", "Website"):
        if record.get(key):
            out[key] = record[key]
    out["SalesTrackingCategories"] = []
    out["PurchasesTrackingCategories"] = []
    out["ContactPersons"] = [dict(p) for p in record.get("ContactPersons", [])]
    if record.get("PaymentTerms"):
        out["PaymentTerms"] = record["PaymentTerms"]
    out["HasAttachments"] = False
    out["HasValidationErrors"] = False
    return out


def render_contact_summary(record: Record) -> Record:
    out: Record = {"ContactID": record["ContactID"]}
    if record.get("ContactNumber"):
        out["ContactNumber"] = record["ContactNumber"]
    out.update({"ContactStatus": record["ContactStatus"], "Name": record["Name"], "Addresses": [], "Phones": [],
                "ContactGroups": [], "ContactPersons": [], "HasValidationErrors": False})
    return out
