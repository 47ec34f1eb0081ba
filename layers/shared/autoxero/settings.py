"""The customer's sync settings: one validated document with defaults that work untouched.

Apart from invoices.start_date, which a person must choose, autoxero untouched creates DRAFT invoices
numbered as in Autotask, matches contacts by exact name, lets Xero calculate tax on Exclusive amounts and
posts every line to account 200. Everything a finance team may want to map is here, each with a default,
so the mapping code never has to guess.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AccountCode = Annotated[str, Field(min_length=1, max_length=10)]
ItemCode = Annotated[str, Field(min_length=1, max_length=30)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ContactMatch(StrEnum):
    NAME = "name"
    ACCOUNT_NUMBER = "account_number"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    AUTHORISED = "AUTHORISED"


class Numbering(StrEnum):
    AUTOTASK = "autotask"  # Xero InvoiceNumber = Autotask invoiceNumber (with optional prefix)
    XERO = "xero"  # Xero numbers; the Autotask number goes to Reference and Xero's is written back


class AccountSource(StrEnum):
    EXTERNAL_NUMBER = "external_number"  # BillingCode.externalNumber is the Xero account code
    GENERAL_LEDGER = "general_ledger"  # BillingCode.generalLedgerAccount, through account_by_gl
    MAPPING = "mapping"  # only account_by_billing_code


class TaxMode(StrEnum):
    XERO_CALCULATES = "xero_calculates"  # send no TaxType; Xero uses each account's default rate
    MAPPED = "mapped"  # (tax region, tax category) -> TaxType; an unmapped pair stops that invoice


class TrackingSource(StrEnum):
    TERRITORY = "territory"
    CLASSIFICATION = "classification"
    BILLING_CODE = "billing_code"
    CONTRACT = "contract"
    UDF = "udf"


class ReferenceSource(StrEnum):
    ORDER_NUMBER = "order_number"
    PURCHASE_ORDER_NUMBER = "purchase_order_number"
    NONE = "none"


class ContactSettings(Strict):
    match_by: ContactMatch = ContactMatch.NAME
    billing_contact_udf: str | None = "Billing Contact"
    contact_persons: bool = False
    max_contact_persons: int = Field(default=5, ge=0, le=5)
    sync_vendors: bool = True


class TrackingRule(Strict):
    category: str = Field(min_length=1, max_length=100)
    source: TrackingSource
    udf_name: str | None = None
    # Autotask value (label or id as text) -> Xero option name; unmapped values use the value itself.
    options: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _udf_needs_name(self) -> TrackingRule:
        if self.source is TrackingSource.UDF and not self.udf_name:
            raise ValueError("a tracking rule with source 'udf' needs udf_name")
        return self


class TaxSettings(Strict):
    mode: TaxMode = TaxMode.XERO_CALCULATES
    # "region name|category name" -> Xero TaxType, used when mode is 'mapped'
    by_region_and_category: dict[str, str] = Field(default_factory=dict)
    exempt_tax_type: str = "NONE"


class InvoiceSettings(Strict):
    status: InvoiceStatus = InvoiceStatus.DRAFT
    numbering: Numbering = Numbering.AUTOTASK
    number_prefix: str = Field(default="", max_length=20)
    # No default: a person chooses where history starts (`settings suggest` proposes the 1st of this month);
    # until it is set the invoices flow sends nothing and `settings push` refuses the document.
    start_date: dt.date | None = None
    settle_minutes: int = Field(default=15, ge=0, le=1440)
    account_source: AccountSource = AccountSource.EXTERNAL_NUMBER
    default_account_code: AccountCode = "200"
    account_by_billing_code: dict[str, AccountCode] = Field(default_factory=dict)
    account_by_gl: dict[str, AccountCode] = Field(default_factory=dict)
    item_by_billing_code: dict[str, ItemCode] = Field(default_factory=dict)
    # A line's Xero item is the SKU of what it sells: the product on the charge it bills, or its recurring
    # service (bundle); used when Xero has an item with that code (mapping/billing.py).
    item_by_product_sku: bool = True
    create_missing_items: bool = False
    tax: TaxSettings = TaxSettings()
    tracking: list[TrackingRule] = Field(default_factory=list, max_length=2)
    branding_by_template: dict[str, str] = Field(default_factory=dict)  # template id -> theme name
    reference: ReferenceSource = ReferenceSource.ORDER_NUMBER
    group_by_line_item_group: bool = False
    rounding_tolerance: Decimal = Field(default=Decimal("0.05"), ge=0, le=Decimal("10"))
    rounding_account_code: AccountCode = "860"
    void_in_xero: bool = True
    # e.g. "https://ww5.autotask.net/...?invoiceId={id}": gives the Xero invoice a link back to Autotask
    deep_link_template: str | None = None
    stamp_web_service_date: bool = True

    @field_validator("tracking")
    @classmethod
    def _distinct_categories(cls, rules: list[TrackingRule]) -> list[TrackingRule]:
        names = [r.category for r in rules]
        if len(set(names)) != len(names):
            raise ValueError("each tracking category may appear once")
        return rules


class PurchaseOrderSettings(Strict):
    enabled: bool = True
    target: Literal["bill", "purchase_order"] = "bill"
    trigger_status: str = "Submitted"
    lookback_days: int = Field(default=120, ge=1, le=3650)  # POs have no modified date: recent ones are re-read
    status: InvoiceStatus = InvoiceStatus.DRAFT
    default_account_code: AccountCode = "300"
    freight_account_code: AccountCode = "425"
    account_by_billing_code: dict[str, AccountCode] = Field(default_factory=dict)
    tax_type: str | None = None


class PaymentSettings(Strict):
    enabled: bool = True
    overwrite_manual_paid_date: bool = False


class AutotaskSettings(Strict):
    """How much of Autotask's hourly request threshold autoxero may take. The threshold (10,000 an hour by
    default) is per database and shared with every other integration the MSP runs; when it is reached, all of
    them are refused until the hour rolls over."""

    # autoxero works only while the whole database (everyone's requests) is under this share of the threshold
    max_database_share: Decimal = Field(default=Decimal("0.5"), gt=0, le=Decimal("0.95"))
    # and makes at most this many requests itself in any rolling hour
    hourly_budget: int = Field(default=2000, ge=50)


class XeroConnectionSettings(Strict):
    kind: Literal["oauth", "custom_connection"] = "oauth"
    scopes: Literal["granular", "legacy"] = "granular"

    @property
    def scope_list(self) -> list[str]:
        if self.scopes == "legacy":
            return ["offline_access", "accounting.transactions", "accounting.contacts", "accounting.settings"]
        return ["offline_access", "accounting.invoices", "accounting.payments", "accounting.contacts",
                "accounting.settings"]


class SyncSettings(Strict):
    """The whole settings document. `version` is assigned by the store, never by hand."""

    contacts: ContactSettings = ContactSettings()
    invoices: InvoiceSettings = InvoiceSettings()
    purchase_orders: PurchaseOrderSettings = PurchaseOrderSettings()
    payments: PaymentSettings = PaymentSettings()
    autotask: AutotaskSettings = AutotaskSettings()
    xero: XeroConnectionSettings = XeroConnectionSettings()
    alert_on_attention: bool = True
