"""The Autotask entities autoxero reads, in the REST API's own field names.

Tolerant by design: unknown fields are kept (extra="allow") and every field a tenant may leave empty is
optional, so a new Autotask release never breaks a read. Money is Decimal (the client parses JSON numbers
as Decimal, so nothing passes through binary floating point).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Entity(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: int
    # Fields Autotask keeps as a calendar date: the UI gives them no time, and "we don't convert timezone
    # datetime values for date-only fields, we just set the time portion to midnight and accept the date value"
    # (REST_API_Calls.htm, "Timestamp format"); "invoice.paidDate ignores time stamp information and stores the
    # date only" (InvoicesEntity.htm).
    calendar_dates: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _nulls_mean_defaults(cls, data: Any) -> Any:
        """Autotask sends explicit nulls for empty fields: treat them as absent, so defaults apply."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @model_validator(mode="after")
    def _one_time_rule(self) -> Entity:
        """Every datetime as an aware UTC value: "The REST API stores and returns all time data in UTC"
        (REST_API_Calls.htm), and older responses leave the zone off ("2016-03-30T13:10:35.563",
        apigrate/autotask-restapi README), so a zone-less value is UTC. A calendar date is the date as written
        (never shifted by a zone), at midnight UTC, so `.date()` gives the day a person chose in Autotask."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if not isinstance(value, datetime):
                continue
            if name in self.calendar_dates:
                self.__dict__[name] = datetime.combine(value.date(), time(), UTC)
            elif value.tzinfo is None or value.utcoffset() is None:
                self.__dict__[name] = value.replace(tzinfo=UTC)
            else:
                self.__dict__[name] = value.astimezone(UTC)
        return self


class UserDefinedField(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    value: Any = None


class WithUdfs(Entity):
    userDefinedFields: list[UserDefinedField] = Field(default_factory=list)

    def udf(self, name: str) -> str | None:
        for field in self.userDefinedFields:
            if field.name == name and field.value not in (None, ""):
                return str(field.value)
        return None


# Company id 0 is the MSP's own company, present in every tenant ("Companies.get(0) // the root company",
# apigrate/autotask-restapi README): it is never synced as a customer or vendor.
OWN_COMPANY_ID = 0


class Company(WithUdfs):
    companyName: str
    companyNumber: str | None = None
    companyType: int | None = None
    isActive: bool = True
    phone: str | None = None
    fax: str | None = None
    alternatePhone1: str | None = None
    webAddress: str | None = None
    address1: str | None = None
    address2: str | None = None
    additionalAddressInformation: str | None = None
    city: str | None = None
    state: str | None = None
    postalCode: str | None = None
    countryID: int | None = None
    billingAddress1: str | None = None
    billingAddress2: str | None = None
    billToCity: str | None = None
    billToState: str | None = None
    billToZipCode: str | None = None
    billToCountryID: int | None = None
    billToAttention: str | None = None
    currencyID: int | None = None
    taxID: str | None = None
    taxRegionID: int | None = None
    isTaxExempt: bool = False
    invoiceTemplateID: int | None = None
    territoryID: int | None = None
    classification: int | None = None
    lastTrackedModifiedDateTime: datetime | None = None


class Contact(WithUdfs):
    companyID: int
    firstName: str = ""
    lastName: str = ""
    emailAddress: str | None = None
    phone: str | None = None
    mobilePhone: str | None = None
    faxNumber: str | None = None
    title: str | None = None
    isActive: int = 1  # an integer 0/1 in Autotask, not a boolean
    primaryContact: bool = False
    billingContact: bool = False
    lastModifiedDate: datetime | None = None

    @property
    def full_name(self) -> str:
        return f"{self.firstName} {self.lastName}".strip()


class Invoice(Entity):
    calendar_dates: ClassVar[frozenset[str]] = frozenset({"invoiceDateTime", "dueDate", "fromDate", "toDate",
                                                          "paidDate"})
    companyID: int
    invoiceNumber: str | None = None
    invoiceDateTime: datetime
    createDateTime: datetime | None = None
    dueDate: datetime | None = None
    invoiceEditorTemplateID: int | None = None
    invoiceTotal: Decimal = Decimal(0)
    totalTaxValue: Decimal = Decimal(0)
    isVoided: bool = False
    voidedDate: datetime | None = None
    orderNumber: str | None = None
    paidDate: datetime | None = None
    paymentTerm: int | None = None
    taxRegionName: str | None = None
    webServiceDate: datetime | None = None
    comments: str | None = None
    fromDate: datetime | None = None
    toDate: datetime | None = None
    invoiceStatus: int | None = None                  # picklist; values vary by tenant and are not public
    invoiceTaxMethodExternalCode: str | None = None


class BillingItem(Entity):
    invoiceID: int | None = None
    companyID: int | None = None
    itemName: str | None = None
    description: str | None = None
    quantity: Decimal = Decimal(0)
    rate: Decimal = Decimal(0)
    extendedPrice: Decimal = Decimal(0)
    taxDollars: Decimal = Decimal(0)
    totalAmount: Decimal = Decimal(0)
    billingCodeID: int | None = None
    taxCategoryID: int | None = None
    billingItemType: int | None = None
    lineItemGroupDescription: str | None = None
    lineItemFullDescription: str | None = None
    # No productID: the product is on the charge the item bills, or the service it recurs (mapping/billing.py).
    contractChargeID: int | None = None
    ticketChargeID: int | None = None
    projectChargeID: int | None = None
    serviceID: int | None = None
    serviceBundleID: int | None = None
    contractBlockID: int | None = None
    contractID: int | None = None
    purchaseOrderNumber: str | None = None
    sortOrderID: Decimal | None = None
    itemDate: datetime | None = None


class BillingCode(Entity):
    name: str = ""
    description: str | None = None
    externalNumber: str | None = None
    generalLedgerAccount: int | None = None
    taxCategoryID: int | None = None
    isActive: bool = True

    @field_validator("externalNumber", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class Product(Entity):
    name: str = ""
    description: str | None = None
    sku: str | None = None
    productBillingCodeID: int | None = None
    unitCost: Decimal | None = None
    unitPrice: Decimal | None = None
    isActive: bool = True


class Charge(Entity):
    """A ContractCharges, TicketCharges or ProjectCharges record: the cost (product or material) an item bills."""

    name: str | None = None
    productID: int | None = None
    billingCodeID: int | None = None


class Service(Entity):
    """A Services or ServiceBundles record: the recurring service an item bills, with its own SKU."""

    name: str = ""
    sku: str | None = None
    billingCodeID: int | None = None
    isActive: bool = True


class PurchaseOrder(Entity):
    vendorID: int
    status: int
    purchaseOrderNumber: str | None = None
    externalPONumber: str | None = None
    vendorInvoiceNumber: str | None = None
    createDateTime: datetime | None = None
    submitDateTime: datetime | None = None
    cancelDateTime: datetime | None = None
    paymentTerm: int | None = None
    taxRegionID: int | None = None
    freight: Decimal = Decimal(0)
    generalMemo: str | None = None
    latestEstimatedArrivalDate: datetime | None = None


class PurchaseOrderItem(Entity):
    orderID: int
    productID: int | None = None
    quantity: Decimal = Decimal(0)
    unitCost: Decimal = Decimal(0)
    memo: str | None = None
    chargeID: int | None = None


class TaxCategory(Entity):
    name: str
    isActive: bool = True


class TaxRegion(Entity):
    name: str
    isActive: bool = True


class Tax(Entity):
    taxRegionID: int
    taxCategoryID: int
    taxName: str | None = None
    taxRate: Decimal = Decimal(0)


class InvoiceTemplate(Entity):
    name: str


class PaymentTerm(Entity):
    name: str
    paymentDueInDays: int | None = None
    isActive: bool = True


class Currency(Entity):
    name: str
    isInternalCurrency: bool = False


class Country(Entity):
    name: str
    countryCode: str | None = None
    displayName: str | None = None


class Zone(BaseModel):
    model_config = ConfigDict(extra="allow")
    zoneName: str | None = None
    url: str
    webUrl: str | None = None
    ci: int | None = None


class Picklist(BaseModel):
    """One field's picklist from entityInformation/fields: value -> label."""

    field: str
    labels: dict[str, str]

    def label(self, value: object) -> str | None:
        return self.labels.get(str(value)) if value is not None else None

    def value(self, label: str) -> str | None:
        wanted = label.casefold()
        return next((v for v, lbl in self.labels.items() if lbl.casefold() == wanted), None)


class PicklistValue(BaseModel):
    """One entry of a field's `picklistValues` in entityInformation/fields."""

    model_config = ConfigDict(extra="allow")
    value: str
    label: str
    isActive: bool = True
    isDefaultValue: bool = False
    sortOrder: int | None = None
    parentValue: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class FieldInfo(BaseModel):
    """One field of `GET /v1.0/{Entity}/entityInformation/fields`: the tenant's own rules for it."""

    model_config = ConfigDict(extra="allow")
    name: str
    dataType: str | None = None
    length: int | None = None
    isRequired: bool = False
    isReadOnly: bool = False
    isQueryable: bool = True
    isReference: bool = False
    referenceEntityType: str | None = None
    isPickList: bool = False
    picklistValues: list[PicklistValue] | None = None
    isSupportedWebhookField: bool = False

    def picklist(self) -> Picklist:
        return Picklist(field=self.name, labels={v.value: v.label for v in self.picklistValues or []})


class ThresholdInformation(BaseModel):
    """`GET /v1.0/ThresholdInformation`: the database's hourly request budget and how much of it is used."""

    model_config = ConfigDict(extra="allow")
    externalRequestThreshold: int
    requestThresholdTimeframe: int
    currentTimeframeRequestCount: int

    @property
    def remaining(self) -> int:
        return max(0, self.externalRequestThreshold - self.currentTimeframeRequestCount)
