from decimal import Decimal

import pytest
from pydantic import ValidationError

from autoxero.settings import InvoiceStatus, SyncSettings, TaxMode


def test_defaults_work_untouched():
    settings = SyncSettings()
    assert settings.invoices.status is InvoiceStatus.DRAFT
    assert settings.contacts.match_by == "name"
    assert settings.invoices.tax.mode is TaxMode.XERO_CALCULATES
    assert settings.invoices.default_account_code == "200"
    assert settings.xero.scope_list == ["offline_access", "accounting.invoices", "accounting.payments",
                                        "accounting.contacts", "accounting.settings"]


def test_round_trips_through_json():
    settings = SyncSettings.model_validate(
        {"invoices": {"status": "AUTHORISED", "rounding_tolerance": "0.10",
                      "tracking": [{"category": "Region", "source": "territory"}]}})
    again = SyncSettings.model_validate_json(settings.model_dump_json())
    assert again == settings
    assert again.invoices.rounding_tolerance == Decimal("0.10")


@pytest.mark.parametrize("bad", [
    {"invoices": {"status": "PAID"}},
    {"invoices": {"unknown_field": 1}},
    {"invoices": {"tracking": [{"category": "A", "source": "territory"}, {"category": "B", "source": "udf"}]}},
    {"invoices": {"tracking": [{"category": "A", "source": "territory"}] * 2}},
    {"invoices": {"tracking": [{"category": c, "source": "territory"} for c in "ABC"]}},
    {"invoices": {"default_account_code": "12345678901"}},
    {"contacts": {"max_contact_persons": 6}},
])
def test_rejects_bad_documents_with_a_reason(bad):
    with pytest.raises(ValidationError) as err:
        SyncSettings.model_validate(bad)
    assert err.value.errors()[0]["msg"]
