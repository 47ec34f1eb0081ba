"""Xero Accounting API records in Xero's own field names, for what autoxero sends and reads.

Reads never go through the SDK's model classes: an enum value the SDK does not know (a new Invoice
Status, a new TaxNumberType) crashes its deserialiser (xero-python 15.2.0, docs/xero.md §9.5).
These models keep unknown fields and take every enum as a plain string. Dates arrive as `/Date(ms+0000)/`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def parse_xero_datetime(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        match = _MS_DATE.fullmatch(value.strip())
        if match:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a Xero date: {value!r}")


def parse_xero_date(value: object) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    parsed = parse_xero_datetime(value)
    return parsed.date() if parsed else None


XeroDateTime = Annotated[datetime | None, BeforeValidator(parse_xero_datetime)]
XeroDate = Annotated[date | None, BeforeValidator(parse_xero_date)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON body Xero expects: only fields that are set, Decimals as numbers."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class ValidationMessage(Wire):
    Message: str = ""


class Outcome(Wire):
    """Per-element status fields present with summarizeErrors=false."""

    StatusAttributeString: str | None = None
    HasErrors: bool | None = None
    ValidationErrors: list[ValidationMessage] | None = None
    Warnings: list[ValidationMessage] | None = None

    @property
    def errors(self) -> list[str]:
        return [e.Message for e in self.ValidationErrors or [] if e.Message]


class Address(Wire):
    AddressType: str
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    AddressLine3: str | None = None
    AddressLine4: str | None = None
    City: str | None = None
    Region: str | None = None
    PostalCode: str | None = None
    Country: str | None = None
    AttentionTo: str | None = None


class Phone(Wire):
    PhoneType: str
    PhoneNumber: str | None = None
    PhoneAreaCode: str | None = None
    PhoneCountryCode: str | None = None


class ContactPerson(Wire):
    FirstName: str | None = None
    LastName: str | None = None
    EmailAddress: str | None = None
    IncludeInEmails: bool | None = None


class Contact(Outcome):
    ContactID: str | None = None
    ContactNumber: str | None = None
    AccountNumber: str | None = None
    ContactStatus: str | None = None
    Name: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    EmailAddress: str | None = None
    TaxNumber: str | None = None
    DefaultCurrency: str | None = None
    Addresses: list[Address] | None = None
    Phones: list[Phone] | None = None
    ContactPersons: list[ContactPerson] | None = None
    IsSupplier: bool | None = None
    IsCustomer: bool | None = None
    UpdatedDateUTC: XeroDateTime = None


class TrackingRef(Wire):
    Name: str
    Option: str
    TrackingCategoryID: str | None = None
    TrackingOptionID: str | None = None


class LineItem(Wire):
    LineItemID: str | None = None
    Description: str | None = None
    Quantity: Decimal | None = None
    UnitAmount: Decimal | None = None
    ItemCode: str | None = None
    AccountCode: str | None = None
    TaxType: str | None = None
    TaxAmount: Decimal | None = None
    LineAmount: Decimal | None = None
    Tracking: list[TrackingRef] | None = None


class ContactRef(Wire):
    ContactID: str | None = None
    Name: str | None = None


class InvoiceRef(Wire):
    InvoiceID: str | None = None
    InvoiceNumber: str | None = None


class PaymentSummary(Wire):
    PaymentID: str | None = None
    Date: XeroDateTime = None
    Amount: Decimal | None = None


class Document(Outcome):
    """What invoices, bills and credit notes share."""

    Type: str | None = None
    Reference: str | None = None
    Contact: ContactRef | None = None
    Date: XeroDate = None
    Status: str | None = None
    LineAmountTypes: str | None = None
    LineItems: list[LineItem] | None = None
    SubTotal: Decimal | None = None
    TotalTax: Decimal | None = None
    Total: Decimal | None = None
    CurrencyCode: str | None = None
    BrandingThemeID: str | None = None
    UpdatedDateUTC: XeroDateTime = None


class Invoice(Document):
    InvoiceID: str | None = None
    InvoiceNumber: str | None = None
    DueDate: XeroDate = None
    AmountDue: Decimal | None = None
    AmountPaid: Decimal | None = None
    AmountCredited: Decimal | None = None
    Url: str | None = None
    FullyPaidOnDate: XeroDateTime = None
    Payments: list[PaymentSummary] | None = None


class CreditNote(Document):
    CreditNoteID: str | None = None
    CreditNoteNumber: str | None = None
    RemainingCredit: Decimal | None = None


class PurchaseOrder(Outcome):
    PurchaseOrderID: str | None = None
    PurchaseOrderNumber: str | None = None
    Reference: str | None = None
    Contact: ContactRef | None = None
    Date: XeroDate = None
    DeliveryDate: XeroDate = None
    Status: str | None = None
    LineAmountTypes: str | None = None
    LineItems: list[LineItem] | None = None
    SubTotal: Decimal | None = None
    Total: Decimal | None = None
    UpdatedDateUTC: XeroDateTime = None



class Payment(Outcome):
    PaymentID: str | None = None
    Invoice: InvoiceRef | None = None
    Date: XeroDate = None
    Amount: Decimal | None = None
    Status: str | None = None
    PaymentType: str | None = None
    UpdatedDateUTC: XeroDateTime = None


class Account(Wire):
    AccountID: str | None = None
    Code: str | None = None
    Name: str = ""
    Type: str | None = None
    Status: str | None = None
    TaxType: str | None = None


class TaxRate(Wire):
    Name: str = ""
    TaxType: str
    Status: str | None = None
    EffectiveRate: Decimal | None = None
    DisplayTaxRate: Decimal | None = None
    CanApplyToRevenue: bool | None = None  # spec: TaxRate (tests/contract/specs/xero_accounting.yaml)
    CanApplyToExpenses: bool | None = None


class Item(Outcome):
    ItemID: str | None = None
    Code: str
    Name: str | None = None
    Description: str | None = None
    IsSold: bool | None = None
    IsPurchased: bool | None = None


class TrackingOption(Wire):
    TrackingOptionID: str | None = None
    Name: str
    Status: str | None = None


class TrackingCategory(Wire):
    TrackingCategoryID: str | None = None
    Name: str
    Status: str | None = None
    Options: list[TrackingOption] = Field(default_factory=list)


class BrandingTheme(Wire):
    BrandingThemeID: str
    Name: str
    SortOrder: int | None = None


class Currency(Wire):
    Code: str
    Description: str | None = None


class Organisation(Wire):
    OrganisationID: str | None = None
    Name: str = ""
    BaseCurrency: str | None = None
    CountryCode: str | None = None
    Timezone: str | None = None
    ShortCode: str | None = None


class Connection(Wire):
    id: str
    tenantId: str
    authEventId: str | None = None
    tenantType: str | None = None
    tenantName: str | None = None
