"""One small world every mapping table is read against: a Xero organisation's lists and an Autotask tenant's
reference data, as plain objects (no sandbox, no moto). Each table's rows change only what their case is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from autoxero.autotask import models as at
from autoxero.mapping.lines import LineContext
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.settings import InvoiceSettings
from autoxero.xero import models as xm


def xero_world() -> XeroReference:
    return XeroReference(
        accounts=[xm.Account(Code="200", Name="Sales", TaxType="OUTPUT2", Status="ACTIVE"),
                  xm.Account(Code="210", Name="Managed Services", TaxType="OUTPUT2", Status="ACTIVE"),
                  xm.Account(Code="230", Name="Project Services", TaxType="OUTPUT2", Status="ACTIVE"),
                  xm.Account(Code="250", Name="Legacy Hosting", TaxType="OUTPUT2", Status="ARCHIVED"),
                  xm.Account(Code="300", Name="Purchases", TaxType="INPUT2", Status="ACTIVE"),
                  xm.Account(Code="425", Name="Freight", TaxType="INPUT2", Status="ACTIVE"),
                  xm.Account(Code="860", Name="Rounding", TaxType="NONE", Status="ACTIVE")],
        tax_rates=[xm.TaxRate(TaxType="OUTPUT2", EffectiveRate=Decimal(15), Status="ACTIVE"),
                   xm.TaxRate(TaxType="INPUT2", EffectiveRate=Decimal(15), Status="ACTIVE"),
                   xm.TaxRate(TaxType="NONE", EffectiveRate=Decimal(0), Status="ACTIVE"),
                   xm.TaxRate(TaxType="ZERORATEDOUTPUT", EffectiveRate=Decimal(0), Status="ACTIVE"),
                   xm.TaxRate(TaxType="OLDOUTPUT", EffectiveRate=Decimal(12), Status="DELETED")],
        items=[xm.Item(Code="MS-GOLD"), xm.Item(Code="FW-100")],
        tracking=[xm.TrackingCategory(TrackingCategoryID="c-region", Name="Region", Status="ACTIVE", Options=[
                      xm.TrackingOption(TrackingOptionID="o-north", Name="North", Status="ACTIVE"),
                      xm.TrackingOption(TrackingOptionID="o-south", Name="South", Status="ACTIVE"),
                      xm.TrackingOption(TrackingOptionID="o-old", Name="West", Status="ARCHIVED")]),
                  xm.TrackingCategory(TrackingCategoryID="c-line", Name="Service Line", Status="ACTIVE", Options=[
                      xm.TrackingOption(TrackingOptionID="o-ms", Name="Managed Services", Status="ACTIVE"),
                      xm.TrackingOption(TrackingOptionID="o-gold", Name="Gold", Status="ACTIVE"),
                      xm.TrackingOption(TrackingOptionID="o-42", Name="42", Status="ACTIVE")]),
                  xm.TrackingCategory(TrackingCategoryID="c-dead", Name="Department", Status="ARCHIVED")],
        themes=[xm.BrandingTheme(BrandingThemeID="theme-standard", Name="Standard"),
                xm.BrandingTheme(BrandingThemeID="theme-managed", Name="Managed Services")],
        currencies=[xm.Currency(Code="NZD"), xm.Currency(Code="AUD")],
        organisation=xm.Organisation(BaseCurrency="NZD"))


AUTOTASK = AutotaskReference(
    billing_codes={10: at.BillingCode(id=10, name="Managed Services", externalNumber=" 210 ",
                                      generalLedgerAccount=4100),
                   11: at.BillingCode(id=11, name="Projects", generalLedgerAccount=4300),
                   12: at.BillingCode(id=12, name="Misc")},
    tax_regions={1: at.TaxRegion(id=1, name="New Zealand"), 2: at.TaxRegion(id=2, name="Overseas")},
    tax_categories={1: at.TaxCategory(id=1, name="Standard"), 2: at.TaxCategory(id=2, name="Exempt")},
    templates={5: at.InvoiceTemplate(id=5, name="Managed Services"), 6: at.InvoiceTemplate(id=6, name="Custom"),
               7: at.InvoiceTemplate(id=7, name="Standard")},
    payment_terms={1: at.PaymentTerm(id=1, name="Net 20", paymentDueInDays=20),
                   2: at.PaymentTerm(id=2, name="On receipt", paymentDueInDays=0),
                   3: at.PaymentTerm(id=3, name="No days")},
    picklists={"Companies.territoryID": at.Picklist(field="territoryID", labels={"1": "Northern", "2": "Southern"}),
               "Companies.classification": at.Picklist(field="classification", labels={"3": "Gold"})},
)

ISSUED = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
LABEL = "Invoice 1001 (Acme Ltd)"


def autotask_company(**fields: Any) -> at.Company:
    return at.Company.model_validate({"id": 7, "companyName": "Acme Ltd", **fields})


def autotask_invoice(**fields: Any) -> at.Invoice:
    return at.Invoice.model_validate({"id": 1, "companyID": 7, "invoiceNumber": "1001", "invoiceDateTime": ISSUED,
                                      **fields})


def billing_item(**fields: Any) -> at.BillingItem:
    """A taxed line billing 100.00 + 15.00 GST, unless the row says otherwise."""
    return at.BillingItem.model_validate({"id": 1, "invoiceID": 1, "itemName": "Support", "quantity": 1,
                                          "rate": 100, "extendedPrice": 100, "taxDollars": 15, "totalAmount": 115,
                                          **fields})


@pytest.fixture
def xero() -> XeroReference:
    return xero_world()


@pytest.fixture
def item() -> Callable[..., at.BillingItem]:
    return billing_item


ContextFactory = Callable[..., LineContext]


@pytest.fixture
def context() -> ContextFactory:
    """A LineContext: settings as InvoiceSettings fields, company and invoice as their Autotask fields."""

    def make(settings: dict[str, Any] | None = None, company: dict[str, Any] | None = None,
             invoice: dict[str, Any] | None = None) -> LineContext:
        return LineContext(autotask_invoice(**(invoice or {})), autotask_company(**(company or {})), AUTOTASK,
                           xero_world(), InvoiceSettings.model_validate(settings or {}), LABEL)

    return make
