"""Tracking categories for one invoice line (mapping/lines.py::choose_tracking).

Xero's categories in the shared world: Region (North, South; West archived) and Service Line (Managed
Services, Gold, 42); Department is archived. Autotask's picklists: territory 1 "Northern", 2 "Southern";
classification 3 "Gold". Each row: the tracking rules, the company's and line's fields, and the (category,
option) pairs chosen or the Problem code that stops the invoice.
"""

from __future__ import annotations

import pytest

from autoxero.mapping.common import Unmappable
from autoxero.mapping.lines import choose_tracking

TERRITORY = {"category": "Region", "source": "territory", "options": {"Northern": "North", "Southern": "South"}}
REGION_UDF = {"category": "Region", "source": "udf", "udf_name": "Xero Region"}
LINE_BY_CODE = {"category": "Service Line", "source": "billing_code"}
NORTHERN = {"territoryID": 1}

CHOSEN = [
    pytest.param([], NORTHERN, {}, (), id="no rules: no tracking"),
    pytest.param([TERRITORY], NORTHERN, {}, (("Region", "North"),), id="territory label mapped in options"),
    pytest.param([TERRITORY], {}, {}, (), id="territory rule, company without a territory: no option"),
    pytest.param([{"category": "Service Line", "source": "classification"}], {"classification": 3}, {},
                 (("Service Line", "Gold"),), id="classification label used as the option name when unmapped"),
    pytest.param([LINE_BY_CODE], {}, {"billingCodeID": 10}, (("Service Line", "Managed Services"),),
                 id="billing code name"),
    pytest.param([LINE_BY_CODE], {}, {}, (), id="billing code rule, line without a billing code: no option"),
    pytest.param([{"category": "Service Line", "source": "contract"}], {}, {"contractID": 42},
                 (("Service Line", "42"),), id="contract id"),
    pytest.param([REGION_UDF], {"userDefinedFields": [{"name": "Xero Region", "value": "South"}]}, {},
                 (("Region", "South"),), id="company user-defined field"),
    pytest.param([REGION_UDF], {"userDefinedFields": [{"name": "Xero Region", "value": ""}]}, {}, (),
                 id="company user-defined field left empty: no option"),
    pytest.param([TERRITORY, LINE_BY_CODE], NORTHERN, {"billingCodeID": 10},
                 (("Region", "North"), ("Service Line", "Managed Services")), id="two rules, two categories"),
]


@pytest.mark.parametrize(("rules", "company", "line", "expected"), CHOSEN)
def test_tracking(context, item, rules, company, line, expected):
    ctx = context({"tracking": rules}, company)
    chosen, why = choose_tracking(item(**line), ctx.ref.billing_codes.get(line.get("billingCodeID", 0)), ctx)
    assert chosen == expected
    assert len(why) == len(expected)


REFUSED = [
    pytest.param([{"category": "Department", "source": "territory"}], NORTHERN, "unknown_tracking_category",
                 id="a category archived in Xero"),
    pytest.param([{"category": "Cost Centre", "source": "territory"}], NORTHERN, "unknown_tracking_category",
                 id="a category Xero does not have"),
    pytest.param([{**TERRITORY, "options": {"Northern": "West"}}], NORTHERN, "unknown_tracking_option",
                 id="mapped to an archived option"),
    pytest.param([{**TERRITORY, "options": {}}], NORTHERN, "unknown_tracking_option",
                 id="an unmapped label Xero has no option for"),
]


@pytest.mark.parametrize(("rules", "company", "code"), REFUSED)
def test_tracking_refused(context, item, rules, company, code):
    with pytest.raises(Unmappable) as refused:
        choose_tracking(item(), None, context({"tracking": rules}, company))
    assert refused.value.problem.code == code
