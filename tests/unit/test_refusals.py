"""Which Xero refusals last, which cached lists they prove stale, and the inputs fingerprint (mapping/refusals.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from autoxero.autotask import models as at
from autoxero.mapping.refusals import inputs_hash, lasting, named_pieces, refused_pieces


@pytest.mark.parametrize(("errors", "is_lasting", "pieces"), [
    (["Invoice # must be unique."], True, set()),
    (["Account code '999' is not a valid code for this document."], True, {"accounts"}),
    (["Account code '200' has been archived, or has been deleted. Each line item must reference a valid account."],
     True, {"accounts"}),
    (["The TaxType code OUTPUT9 does not exist or cannot be used for this type of transaction."], True,
     {"tax_rates"}),
    (["Item code 'WIDGET' is not valid"], True, {"items"}),
    (["The BrandingThemeID 'abc' is not valid."], True, {"themes"}),
    (["There is no ACTIVE tracking category with the name 'Region'"], True, {"tracking"}),
    (["The document date cannot be before the end of year lock date, currently set at 31-Jul-2013"], True, set()),
    (["Invoice # must be unique.", "Something else went wrong"], False, set()),  # partly unknown: try again
    ([], False, set()),
])
def test_lasting_refusals_and_the_lists_they_prove_stale(errors, is_lasting, pieces):
    assert lasting(errors) is is_lasting
    assert refused_pieces(errors) == pieces


def test_named_pieces_are_the_lists_a_document_draws_on():
    payload = {"LineItems": [{"AccountCode": "200"}, {"AccountCode": "210", "ItemCode": "X",
                                                       "Tracking": [{"Name": "Region"}]}],
               "BrandingThemeID": "t", "CurrencyCode": "AUD"}
    assert named_pieces(payload) == {"accounts", "tax_rates", "items", "tracking", "themes", "currencies",
                                     "organisation"}
    assert named_pieces({"LineItems": []}) == set()


def _invoice(**changes):
    fields = {"id": 1, "companyID": 2, "invoiceNumber": "A-1",
              "invoiceDateTime": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
              "invoiceTotal": Decimal("11.50"), "isVoided": False}
    return at.Invoice.model_validate({**fields, **changes})


def _item(**changes):
    return at.BillingItem.model_validate({"id": 10, "invoiceID": 1, "quantity": 1, "rate": 10,
                                          "totalAmount": Decimal("11.50"), **changes})


def test_the_fingerprint_changes_with_each_input_and_only_then():
    base = inputs_hash(_invoice(), [_item()], {"invoices": {"number_prefix": ""}}, {"accounts": "a1"})
    assert base == inputs_hash(_invoice(), [_item()], {"invoices": {"number_prefix": ""}}, {"accounts": "a1"})
    assert len({base,
                inputs_hash(_invoice(invoiceNumber="A-2"), [_item()], {"invoices": {"number_prefix": ""}},
                            {"accounts": "a1"}),
                inputs_hash(_invoice(), [_item(rate=11)], {"invoices": {"number_prefix": ""}}, {"accounts": "a1"}),
                inputs_hash(_invoice(), [_item()], {"invoices": {"number_prefix": "AT-"}}, {"accounts": "a1"}),
                inputs_hash(_invoice(), [_item()], {"invoices": {"number_prefix": ""}}, {"accounts": "a2"})}) == 5


def test_the_fingerprint_changes_with_each_record_the_invoice_is_made_from():
    """A refused invoice is tried again when its company, a line's charge, the product it sells or its tax
    category changes in Autotask, not only the invoice and its items."""
    from autoxero.mapping.billing import Charges, invoice_sources
    from autoxero.mapping.reference import AutotaskReference

    def fingerprint(company=None, charge=None, product=None, category=None):
        company = company or at.Company.model_validate({"id": 5, "companyName": "Acme", "isTaxExempt": False})
        charge = charge or at.Charge.model_validate({"id": 70, "productID": 80})
        product = product or at.Product.model_validate({"id": 80, "name": "Router", "sku": "RTR-1"})
        category = category or at.TaxCategory.model_validate({"id": 3, "name": "Standard"})
        item = _item(projectChargeID=70, taxCategoryID=3)
        ref = AutotaskReference(products={80: product}, tax_categories={3: category})
        made_of = invoice_sources(company, [item], Charges({"ProjectCharges": {70: charge}}), ref)
        return inputs_hash(_invoice(), [item], {}, {}, made_of)

    base = fingerprint()
    assert base == fingerprint()
    assert len({base,
                fingerprint(company=at.Company.model_validate({"id": 5, "companyName": "Acme", "isTaxExempt": True})),
                fingerprint(charge=at.Charge.model_validate({"id": 70, "productID": 81})),
                fingerprint(product=at.Product.model_validate({"id": 80, "name": "Router", "sku": "RTR-2"})),
                fingerprint(category=at.TaxCategory.model_validate({"id": 3, "name": "Exempt"}))}) == 5
