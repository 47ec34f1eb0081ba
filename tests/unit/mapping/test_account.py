"""Account code choice for one invoice line (mapping/lines.py::choose_account), defaults included.

Billing codes in the shared world: 10 "Managed Services" (external number " 210 ", GL 4100), 11 "Projects"
(GL 4300, no external number), 12 "Misc" (neither). Each row: invoice settings, the line's billing code, and
the account chosen or the Problem code that stops the invoice.
"""

from __future__ import annotations

import pytest

from autoxero.mapping.common import Unmappable
from autoxero.mapping.lines import choose_account

GL = {"account_source": "general_ledger", "account_by_gl": {"4100": "210", "4300": "230"}}

CHOSEN = [
    pytest.param({}, None, "200", id="no billing code: the default account 200"),
    pytest.param({"default_account_code": "230"}, None, "230", id="no billing code: the default settings name"),
    pytest.param({}, 10, "210", id="external number (the default source), whitespace trimmed"),
    pytest.param({}, 11, "200", id="external number source, code without one: the default"),
    pytest.param({}, 99, "200", id="a billing code the reference data lacks: the default"),
    pytest.param({"account_by_billing_code": {"10": "230"}}, 10, "230",
                 id="mapped billing code wins over its external number"),
    pytest.param({"account_by_billing_code": {"12": "230"}}, 10, "210",
                 id="another code's mapping does not apply"),
    pytest.param(GL, 11, "230", id="general ledger: the code's GL number through account_by_gl"),
    pytest.param({**GL, "account_by_gl": {"4100": "210"}}, 11, "200",
                 id="general ledger: an unmapped GL number falls to the default"),
    pytest.param(GL, 12, "200", id="general ledger: a code without GL number falls to the default"),
    pytest.param({"account_source": "mapping"}, 10, "200",
                 id="mapping only: the external number is ignored"),
    pytest.param({"account_source": "mapping", "account_by_billing_code": {"10": "230"}}, 10, "230",
                 id="mapping only: the mapped code"),
]


@pytest.mark.parametrize(("settings", "billing_code", "expected"), CHOSEN)
def test_account(context, item, settings, billing_code, expected):
    ctx = context(settings)
    chosen, rule = choose_account(item(billingCodeID=billing_code), ctx.ref.billing_codes.get(billing_code), ctx)
    assert chosen == expected
    assert rule.startswith("account: ")


REFUSED = [
    pytest.param({"default_account_code": "999"}, None, id="a default account Xero does not have"),
    pytest.param({"default_account_code": "250"}, None, id="a default account archived in Xero"),
    pytest.param({"account_by_billing_code": {"10": "250"}}, 10, id="a billing code mapped to an archived account"),
]


@pytest.mark.parametrize(("settings", "billing_code"), REFUSED)
def test_account_refused(context, item, settings, billing_code):
    ctx = context(settings)
    with pytest.raises(Unmappable) as refused:
        choose_account(item(billingCodeID=billing_code), ctx.ref.billing_codes.get(billing_code), ctx)
    assert refused.value.problem.code == "unknown_account"
    assert refused.value.problem.context["account_code"] == settings.get("default_account_code", "250")
