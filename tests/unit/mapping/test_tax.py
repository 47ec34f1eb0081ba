"""Tax type choice for one invoice line (mapping/lines.py::choose_tax_type).

Each row: the invoice settings' `tax`, the company's and invoice's fields, the billing item's fields (a taxed
100.00 + 15.00 line unless changed), and the TaxType chosen (None: no TaxType, Xero applies the account's
default rate) or the Problem code that stops the invoice.
"""

from __future__ import annotations

import pytest

from autoxero.mapping.common import Unmappable
from autoxero.mapping.lines import choose_tax_type

MAPPED = {"mode": "mapped", "by_region_and_category": {"New Zealand|Standard": "OUTPUT2",
                                                       "New Zealand|Exempt": "ZERORATEDOUTPUT",
                                                       "Overseas|Standard": "OLDOUTPUT"}}
UNTAXED = {"taxDollars": 0, "totalAmount": 100}
PREPAID = {"taxDollars": 0, "totalAmount": 0}
NZ = {"taxRegionName": "New Zealand"}

CHOSEN = [
    pytest.param({}, {"isTaxExempt": True}, {}, {}, "NONE", id="exempt company: the exempt type, whatever the line"),
    pytest.param({"exempt_tax_type": "ZERORATEDOUTPUT"}, {"isTaxExempt": True}, {}, {}, "ZERORATEDOUTPUT",
                 id="exempt company: the exempt type settings name"),
    pytest.param({}, {}, {}, {}, None, id="xero calculates, taxed line: no TaxType, the account's rate applies"),
    pytest.param({}, {}, {}, UNTAXED, "NONE", id="xero calculates, untaxed line: exempt, Xero must add no tax"),
    pytest.param({}, {}, {}, PREPAID, None, id="xero calculates, prepaid line billing nothing: no TaxType"),
    pytest.param(MAPPED, {}, NZ, {"taxCategoryID": 1}, "OUTPUT2", id="mapped: invoice's region, line's category"),
    pytest.param(MAPPED, {}, NZ, {"taxCategoryID": 2}, "ZERORATEDOUTPUT", id="mapped: another category"),
    pytest.param(MAPPED, {"taxRegionID": 1}, {}, {"taxCategoryID": 1}, "OUTPUT2",
                 id="mapped: no region on the invoice, so the company's tax region"),
    pytest.param(MAPPED, {"taxRegionID": 2}, {"taxRegionName": " New Zealand "}, {"taxCategoryID": 2},
                 "ZERORATEDOUTPUT", id="mapped: the invoice's region wins over the company's"),
    pytest.param(MAPPED, {"isTaxExempt": True}, NZ, {"taxCategoryID": 1}, "NONE",
                 id="mapped: an exempt company still gets the exempt type"),
]


@pytest.mark.parametrize(("tax", "company", "invoice", "line", "expected"), CHOSEN)
def test_tax_type(context, item, tax, company, invoice, line, expected):
    chosen, rule = choose_tax_type(item(**line), context({"tax": tax}, company, invoice))
    assert chosen == expected
    assert rule.startswith("tax: ")


REFUSED = [
    pytest.param(MAPPED, {}, {"taxRegionName": "Overseas"}, {"taxCategoryID": 2}, "unmapped_tax",
                 id="mapped: a region and category pair nobody mapped"),
    pytest.param(MAPPED, {}, {}, {}, "unmapped_tax", id="mapped: a line with no category and no region"),
    pytest.param(MAPPED, {}, {"taxRegionName": "Overseas"}, {"taxCategoryID": 1}, "unknown_tax_type",
                 id="mapped to a tax rate Xero has deleted"),
    pytest.param({"exempt_tax_type": "EXEMPTX"}, {"isTaxExempt": True}, {}, {}, "unknown_tax_type",
                 id="an exempt type Xero does not have"),
]


@pytest.mark.parametrize(("tax", "company", "invoice", "line", "code"), REFUSED)
def test_tax_type_refused(context, item, tax, company, invoice, line, code):
    with pytest.raises(Unmappable) as refused:
        choose_tax_type(item(**line), context({"tax": tax}, company, invoice))
    assert refused.value.problem.code == code
