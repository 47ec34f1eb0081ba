"""Each mistake a settings document can make against the live systems, checked against the demo tenant's
own reference data (sandbox/fixtures/demo.json): every problem at once, each with its path and a hint."""

from __future__ import annotations

import pytest

from autoxero.autotask import models as at
from autoxero.mapping.reference import AutotaskReference
from autoxero.mapping.settings_check import LiveFacts, check_settings
from autoxero.settings import SyncSettings
from autoxero.xero import models as xm
from sandbox.server import load_fixture


@pytest.fixture(scope="module")
def facts() -> LiveFacts:
    data = load_fixture()
    x, a = data["xero"], data["autotask"]

    def by_id(model, records):
        return {r["id"]: model.model_validate(r) for r in records}

    reference = AutotaskReference(billing_codes=by_id(at.BillingCode, a["BillingCodes"]),
                                  tax_regions=by_id(at.TaxRegion, a["TaxRegions"]),
                                  tax_categories=by_id(at.TaxCategory, a["TaxCategories"]),
                                  templates=by_id(at.InvoiceTemplate, a["InvoiceTemplates"]))
    return LiveFacts(accounts=[xm.Account.model_validate(r) for r in x["Accounts"]],
                     tax_rates=[xm.TaxRate.model_validate(r) for r in x["TaxRates"]],
                     tracking=[xm.TrackingCategory.model_validate(r) for r in x["TrackingCategories"]],
                     themes=[t["Name"] for t in x["BrandingThemes"]], item_codes={i["Code"] for i in x["Items"]},
                     autotask=reference,
                     company_udfs=[u["name"] for u in a["userDefinedFieldDefinitions"]["Companies"]],
                     po_statuses=["New", "Submitted", "Received Partial", "Received Full", "Cancel"])


def problems(facts: LiveFacts, document: dict) -> dict[str, str]:
    base = {"invoices": {"start_date": "2026-12-01"}}
    merged = {**base, **document, "invoices": {**base["invoices"], **document.get("invoices", {})}}
    return {p.where: p.message for p in check_settings(SyncSettings.model_validate(merged), facts)}


def test_the_defaults_with_a_start_date_fit_the_demo_tenant(facts):
    assert problems(facts, {}) == {}


def test_a_missing_start_date_is_a_problem(facts):
    found = {p.where: p.message for p in check_settings(SyncSettings(), facts)}
    assert "must be set" in found["invoices.start_date"]


@pytest.mark.parametrize(("document", "where", "expected"), [
    ({"invoices": {"default_account_code": "2000"}}, "invoices.default_account_code",
     "account '2000' does not exist in Xero; did you mean '200' (Sales)?"),
    ({"invoices": {"default_account_code": "250"}}, "invoices.default_account_code", "is archived in Xero"),
    ({"invoices": {"default_account_code": "425"}}, "invoices.default_account_code",
     "425 (Freight & Courier) is a EXPENSE account, not one for sales lines"),
    ({"purchase_orders": {"default_account_code": "200"}}, "purchase_orders.default_account_code",
     "200 (Sales) is a REVENUE account, not one for bills"),
    ({"invoices": {"account_by_billing_code": {"99": "200"}}}, "invoices.account_by_billing_code.99",
     "Autotask has no billing code with id '99'"),
    ({"invoices": {"tax": {"mode": "mapped", "by_region_and_category": {"New Zealand|Standard": "OUTPUT3"}}}},
     "invoices.tax.by_region_and_category.New Zealand|Standard", "tax type 'OUTPUT3' does not exist in Xero; did "
                                                                  "you mean 'OUTPUT2'?"),
    ({"invoices": {"tax": {"mode": "mapped", "by_region_and_category": {"New Zealand|Standard": "INPUT2"}}}},
     "invoices.tax.by_region_and_category.New Zealand|Standard", "cannot be used on sales"),
    ({"invoices": {"tax": {"mode": "mapped", "by_region_and_category": {"New Zeeland|Standard": "OUTPUT2"}}}},
     "invoices.tax.by_region_and_category.New Zeeland|Standard", "no tax region 'New Zeeland'; did you mean "
                                                                  "'New Zealand'?"),
    ({"invoices": {"tracking": [{"category": "Regoin", "source": "territory"}]}}, "invoices.tracking.0.category",
     "tracking category 'Regoin' does not exist in Xero; did you mean 'Region'?"),
    ({"invoices": {"tracking": [{"category": "Region", "source": "territory", "options": {"North": "Aukland"}}]}},
     "invoices.tracking.0.options.North", "has no active option 'Aukland'; did you mean 'Auckland'?"),
    ({"invoices": {"branding_by_template": {"101": "Standerd"}}}, "invoices.branding_by_template.101",
     "branding theme 'Standerd' does not exist in Xero; did you mean 'Standard'?"),
    ({"invoices": {"item_by_billing_code": {"29682801": "HW-LAP-15"}}}, "invoices.item_by_billing_code.29682801",
     "item 'HW-LAP-15' does not exist in Xero; did you mean 'HW-LAP-14'?"),
    ({"contacts": {"billing_contact_udf": "Billing Contacts"}}, "contacts.billing_contact_udf",
     "no company field 'Billing Contacts'; did you mean 'Billing Contact'?"),
    ({"purchase_orders": {"trigger_status": "Submited"}}, "purchase_orders.trigger_status",
     "no purchase order status 'Submited'; did you mean 'Submitted'?"),
    ({"purchase_orders": {"tax_type": "OUTPUT2"}}, "purchase_orders.tax_type", "cannot be used on purchases"),
])
def test_each_mistake_is_named_with_a_hint(facts, document, where, expected):
    found = problems(facts, document)
    assert where in found, found
    assert expected in found[where]


def test_every_problem_is_listed_at_once(facts):
    found = problems(facts, {"invoices": {"default_account_code": "2000", "branding_by_template": {"7": "Nope"}},
                             "purchase_orders": {"freight_account_code": "200"},
                             "contacts": {"billing_contact_udf": "Payer"}})
    assert set(found) == {"invoices.default_account_code", "invoices.branding_by_template.7",
                          "purchase_orders.freight_account_code", "contacts.billing_contact_udf"}
