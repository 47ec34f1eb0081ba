"""Typed reading of request bodies, the way Xero's JSON deserialiser does it.

Property names match case-insensitively, unknown properties are ignored, `null` means "not given",
numbers may arrive as numeric strings; anything of the wrong shape fails the whole request with a
`PostDataInvalidException` (ErrorNumber 14) naming the path, before any element is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .wire import as_decimal, is_uuid, json_invalid, parse_date


def _token(value: Any) -> str:
    if isinstance(value, dict):
        return "StartObject"
    if isinstance(value, list):
        return "StartArray"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float | Decimal):
        return "Float" if not isinstance(value, int) else "Integer"
    return "String"


class Kind:
    name = "Object"

    def read(self, value: Any, path: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class Str(Kind):
    name = "String"

    def read(self, value: Any, path: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, int | float | Decimal):
            return format(value, "f") if isinstance(value, Decimal) else str(value)
        raise json_invalid(f"Error reading string. Unexpected token: {_token(value)}.", path)


class Dec(Kind):
    name = "Decimal"

    def read(self, value: Any, path: str) -> Decimal:
        if isinstance(value, dict | list):
            raise json_invalid(f"Error reading decimal. Unexpected token: {_token(value)}.", path)
        number = as_decimal(value)
        if number is None:
            raise json_invalid(f"Could not convert string to decimal: {value}.", path)
        return number


class Int(Kind):
    name = "Int32"

    def read(self, value: Any, path: str) -> int:
        number = Dec().read(value, path)
        if number != number.to_integral_value():
            raise json_invalid(f"Input string '{value}' is not a valid integer.", path)
        return int(number)


class Bool(Kind):
    name = "Boolean"

    def read(self, value: Any, path: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise json_invalid(f"Could not convert string to boolean: {value}.", path)


class Date(Kind):
    name = "DateTime"

    def read(self, value: Any, path: str) -> Any:
        if isinstance(value, str):
            try:
                return parse_date(value)
            except (ValueError, OverflowError):
                pass
        raise json_invalid(f"Could not convert string to DateTime: {value}.", path)


class Guid(Kind):
    name = "Guid"

    def read(self, value: Any, path: str) -> str:
        if isinstance(value, str) and is_uuid(value):
            return value.lower()
        raise json_invalid(f'Error converting value "{value}" to type \'System.Guid\'.', path)


@dataclass
class Enum(Kind):
    type_name: str
    values: tuple[str, ...]

    def read(self, value: Any, path: str) -> str:
        if isinstance(value, str):
            for candidate in self.values:
                if candidate.lower() == value.strip().lower():
                    return candidate
        raise json_invalid(f'Error converting value "{value}" to type \'{self.type_name}\'.', path)


@dataclass
class Obj(Kind):
    type_name: str
    fields: dict[str, Kind] = field(default_factory=dict)

    def read(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            shape = "array (e.g. [1,2,3])" if isinstance(value, list) else "primitive value"
            raise json_invalid(f"Cannot deserialize the current JSON {shape} into type '{self.type_name}'.", path)
        lookup = {name.lower(): name for name in self.fields}
        out: dict[str, Any] = {}
        for key, raw in value.items():
            canonical = lookup.get(str(key).lower())
            if canonical is None or raw is None:
                continue  # unknown members are ignored, null means not given
            sub = f"{path}.{canonical}" if path else canonical
            out[canonical] = self.fields[canonical].read(raw, sub)
        return out


@dataclass
class ListOf(Kind):
    item: Kind

    def read(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise json_invalid("Cannot deserialize the current JSON object (e.g. {\"name\":\"value\"}) into type "
                               "'List`1' because the type requires a JSON array.", path)
        return [self.item.read(v, f"{path}[{i}]") for i, v in enumerate(value) if v is not None]


S, D, B, DT, G = Str(), Dec(), Bool(), Date(), Guid()

INVOICE_TYPES = ("ACCREC", "ACCPAY", "ACCRECCREDIT", "ACCPAYCREDIT", "APOVERPAYMENT", "APPREPAYMENT",
                 "AROVERPAYMENT", "ARPREPAYMENT")
DOC_STATUSES = ("DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED")
LINE_AMOUNT_TYPES = Enum("LineAmountType", ("Exclusive", "Inclusive", "NoTax"))

TRACKING = Obj("TrackingCategory", {"TrackingCategoryID": G, "TrackingOptionID": G, "Name": S, "Option": S})
LINE_ITEM = Obj("LineItem", {
    "LineItemID": G, "Description": S, "Quantity": D, "UnitAmount": D, "ItemCode": S, "AccountCode": S,
    "AccountID": G, "TaxType": S, "TaxAmount": D, "LineAmount": D, "DiscountRate": D, "DiscountAmount": D,
    "Tracking": ListOf(TRACKING), "Item": Obj("LineItemItem", {"Code": S, "Name": S, "ItemID": G}),
})
ADDRESS = Obj("Address", {
    "AddressType": Enum("AddressType", ("POBOX", "STREET")), "AddressLine1": S, "AddressLine2": S,
    "AddressLine3": S, "AddressLine4": S, "City": S, "Region": S, "PostalCode": S, "Country": S, "AttentionTo": S,
})
PHONE = Obj("Phone", {"PhoneType": Enum("PhoneType", ("DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE")),
                      "PhoneNumber": S, "PhoneAreaCode": S, "PhoneCountryCode": S})
PERSON = Obj("ContactPerson", {"FirstName": S, "LastName": S, "EmailAddress": S, "IncludeInEmails": B})
TERM = Obj("Bill", {"Day": Int(), "Type": Enum("PaymentTermType", ("DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH",
                                                                   "OFCURRENTMONTH", "OFFOLLOWINGMONTH"))})
CONTACT = Obj("Contact", {
    "ContactID": G, "ContactNumber": S, "AccountNumber": S,
    "ContactStatus": Enum("ContactStatus", ("ACTIVE", "ARCHIVED", "GDPRREQUEST")),
    "Name": S, "FirstName": S, "LastName": S, "CompanyNumber": S, "EmailAddress": S, "BankAccountDetails": S,
    "TaxNumber": S, "AccountsReceivableTaxType": S, "AccountsPayableTaxType": S, "Addresses": ListOf(ADDRESS),
    "Phones": ListOf(PHONE), "IsSupplier": B, "IsCustomer": B, "DefaultCurrency": S, "Website": S,
    "SalesDefaultAccountCode": S, "PurchasesDefaultAccountCode": S, "ContactPersons": ListOf(PERSON),
    "PaymentTerms": Obj("PaymentTerm", {"Bills": TERM, "Sales": TERM}),
})
_DOC_COMMON: dict[str, Kind] = {
    "Contact": CONTACT, "LineItems": ListOf(LINE_ITEM), "Date": DT, "DueDate": DT,
    "LineAmountTypes": LINE_AMOUNT_TYPES, "Reference": S, "BrandingThemeID": G, "CurrencyCode": S,
    "CurrencyRate": D, "Status": Enum("InvoiceStatus", DOC_STATUSES), "SentToContact": B, "Url": S,
    "SubTotal": D, "TotalTax": D, "Total": D,
}
INVOICE = Obj("Invoice", _DOC_COMMON | {
    "Type": Enum("InvoiceType", INVOICE_TYPES), "InvoiceID": G, "InvoiceNumber": S,
    "ExpectedPaymentDate": DT, "PlannedPaymentDate": DT,
})
CREDIT_NOTE = Obj("CreditNote", _DOC_COMMON | {
    "Type": Enum("CreditNoteType", ("ACCPAYCREDIT", "ACCRECCREDIT")), "CreditNoteID": G, "CreditNoteNumber": S,
})
PURCHASE_ORDER = Obj("PurchaseOrder", {
    "Contact": CONTACT, "LineItems": ListOf(LINE_ITEM), "Date": DT, "DeliveryDate": DT,
    "LineAmountTypes": LINE_AMOUNT_TYPES, "PurchaseOrderNumber": S, "Reference": S, "BrandingThemeID": G,
    "CurrencyCode": S, "CurrencyRate": D, "PurchaseOrderID": G, "SentToContact": B, "DeliveryAddress": S,
    "AttentionTo": S, "Telephone": S, "DeliveryInstructions": S, "ExpectedArrivalDate": DT,
    "Status": Enum("PurchaseOrderStatus", ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED")),
})
_DOC_REF = Obj("Invoice", {"InvoiceID": G, "InvoiceNumber": S})
PAYMENT = Obj("Payment", {
    "Invoice": _DOC_REF, "CreditNote": Obj("CreditNote", {"CreditNoteID": G, "CreditNoteNumber": S}),
    "InvoiceNumber": S, "CreditNoteNumber": S, "Account": Obj("Account", {"AccountID": G, "Code": S}),
    "Code": S, "Date": DT, "CurrencyRate": D, "Amount": D, "BankAmount": D, "Reference": S, "IsReconciled": B,
    "Status": Enum("PaymentStatus", ("AUTHORISED", "DELETED")), "PaymentID": G,
})
ALLOCATION = Obj("Allocation", {"Invoice": _DOC_REF, "Amount": D, "Date": DT, "AllocationID": G})
_PURCHASE = Obj("Purchase", {"UnitPrice": D, "AccountCode": S, "COGSAccountCode": S, "TaxType": S})
ITEM = Obj("Item", {
    "ItemID": G, "Code": S, "Name": S, "Description": S, "PurchaseDescription": S, "IsSold": B,
    "IsPurchased": B, "PurchaseDetails": _PURCHASE, "SalesDetails": _PURCHASE, "InventoryAssetAccountCode": S,
})


def read_elements(body: Any, collection: str, kind: Obj) -> list[dict[str, Any]]:
    """The elements of a write: `{"Invoices": [...]}` or one bare element `{...}`."""
    if not isinstance(body, dict):
        raise json_invalid(f"Cannot deserialize the current JSON array (e.g. [1,2,3]) into type '{collection}'.",
                           "")
    wrapped = next((k for k in body if str(k).lower() == collection.lower()), None)
    if wrapped is not None:
        items = body[wrapped]
        if items is None:
            return []
        return ListOf(kind).read(items, collection)
    if not body:
        return []
    return [kind.read(body, "")]
