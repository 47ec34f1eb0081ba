"""The mappings form covers the settings a finance person maps: accounts and Xero items per billing code,
items by SKU, tax, tracking, branding themes and purchase orders; what the form does not show is kept."""

from __future__ import annotations

import pytest

from autoxero.console.mappings import from_form
from autoxero.settings import SyncSettings

CURRENT = SyncSettings.model_validate({"invoices": {
    "account_by_billing_code": {"7": "210"}, "item_by_billing_code": {"7": "SUPPORT"},
    "branding_by_template": {"3": "Standard"},
    "tracking": [{"category": "Region", "source": "territory", "options": {"Wellington": "Wgtn"}},
                 {"category": "Team", "source": "udf", "udf_name": "Team"}]}})


def test_an_unchanged_form_changes_nothing():
    fields = {"account_by_billing_code.7": "210", "item_by_billing_code.7": "SUPPORT", "item_by_product_sku": "true",
              "branding_by_template.3": "Standard", "tracking.Region.source": "territory",
              "tracking.Region.udf_name": "", "tracking.Team.source": "udf", "tracking.Team.udf_name": "Team",
              "po_target": "bill", "po_status": "DRAFT", "po_freight_account_code": "425"}
    assert SyncSettings.model_validate(from_form(CURRENT, fields)) == CURRENT


def test_each_mapping_the_form_shows_is_set_or_dropped():
    fields = {"item_by_billing_code.7": "", "item_by_billing_code.8": "HW", "item_by_product_sku": "false",
              "branding_by_template.3": "", "branding_by_template.4": "Special projects",
              "tracking.Region.source": "classification", "tracking.Region.udf_name": "",
              "tracking.Team.source": "", "tracking.Team.udf_name": "Team",
              "po_target": "purchase_order", "po_status": "AUTHORISED", "po_freight_account_code": "300"}
    settings = SyncSettings.model_validate(from_form(CURRENT, fields))
    invoices, orders = settings.invoices, settings.purchase_orders
    assert invoices.item_by_billing_code == {"8": "HW"} and invoices.item_by_product_sku is False
    assert invoices.branding_by_template == {"4": "Special projects"}
    [region] = invoices.tracking  # Team dropped; Region's option names kept
    assert (region.category, region.source.value, region.options) == ("Region", "classification",
                                                                      {"Wellington": "Wgtn"})
    assert (orders.target, orders.status.value, orders.freight_account_code) == ("purchase_order", "AUTHORISED",
                                                                                 "300")
    assert invoices.account_by_billing_code == {"7": "210"}  # not in this form: kept


def test_a_new_tracking_category_from_a_udf_needs_its_field_name():
    document = from_form(CURRENT, {"tracking.Region.source": "territory", "tracking.Team.source": "udf",
                                   "tracking.Team.udf_name": "", "tracking.Cost.Centre.source": ""})
    team = next(rule for rule in document["invoices"]["tracking"] if rule["category"] == "Team")
    assert team["udf_name"] is None  # and SyncSettings refuses it, with its message, on review
    with pytest.raises(ValueError, match="udf_name"):
        SyncSettings.model_validate(document)
