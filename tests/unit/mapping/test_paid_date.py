"""The paid-date decision (mapping/payments.py::decide_paid_date): what the Autotask invoice's paidDate
becomes from its Xero invoice, and why. Each row: Xero's invoice fields, the paidDate Autotask has, the one
autoxero last wrote, whether settings let a hand-set date be overwritten, and the decision."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from autoxero.mapping.payments import decide_paid_date
from autoxero.xero import models as xm

NOV_5, NOV_9, NOV_12 = dt.date(2026, 11, 5), dt.date(2026, 11, 9), dt.date(2026, 11, 12)
PAID_NOV_9 = {"Status": "PAID", "AmountDue": 0, "AmountPaid": 115, "FullyPaidOnDate": "2026-11-09T00:00:00"}
PART_PAID = {"Status": "AUTHORISED", "AmountDue": 15, "AmountPaid": 100}
UNPAID = {"Status": "AUTHORISED", "AmountDue": 115, "AmountPaid": 0}
PAYMENTS = [{"Date": "2026-11-05T00:00:00", "Amount": 50}, {"Date": "2026-11-12T00:00:00", "Amount": 65}]

TABLE = [
    pytest.param(PAID_NOV_9, None, None, False, ("set", NOV_9, False), id="paid in Xero: set its paid date"),
    pytest.param(PAID_NOV_9, NOV_9, NOV_9, False, ("none", NOV_9, False), id="already marked paid that day"),
    pytest.param(PAID_NOV_9, NOV_5, NOV_5, False, ("set", NOV_9, False),
                 id="autoxero's own earlier date is corrected"),
    pytest.param(PAID_NOV_9, NOV_5, None, False, ("none", NOV_5, False), id="a hand-set date is kept"),
    pytest.param(PAID_NOV_9, NOV_5, NOV_12, False, ("none", NOV_5, False),
                 id="a date differing from autoxero's last is hand-set, and kept"),
    pytest.param(PAID_NOV_9, NOV_5, None, True, ("set", NOV_9, False),
                 id="a hand-set date overwritten when settings say so"),
    pytest.param({"Status": "PAID", "AmountDue": 0, "Payments": PAYMENTS}, None, None, False,
                 ("set", NOV_12, False), id="no FullyPaidOnDate: the last payment's date"),
    pytest.param({"Status": "PAID", "AmountDue": 0}, None, None, False, ("none", None, False),
                 id="paid without any date yet: wait"),
    pytest.param({"Status": "AUTHORISED", "AmountDue": 0, "AmountCredited": 115,
                  "FullyPaidOnDate": "2026-11-09T00:00:00"}, None, None, False, ("set", NOV_9, False),
                 id="settled by a credit note: paid"),
    pytest.param({"Status": "AUTHORISED", "AmountDue": 0, "AmountPaid": 0}, None, None, False,
                 ("none", None, False), id="nothing due and nothing received (a zero invoice): not paid"),
    pytest.param(PART_PAID, None, None, False, ("none", None, True), id="part-paid: left unpaid, noted"),
    pytest.param(UNPAID, None, None, False, ("none", None, False), id="unpaid: nothing to do"),
    pytest.param({"Status": "DRAFT"}, None, None, False, ("none", None, False), id="a draft: nothing to do"),
    pytest.param(UNPAID, NOV_9, NOV_9, False, ("clear", None, False), id="a payment removed: clear autoxero's date"),
    pytest.param(PART_PAID, NOV_9, NOV_9, False, ("clear", None, True), id="part of the payment removed: clear"),
    pytest.param({"Status": "VOIDED"}, NOV_9, NOV_9, False, ("clear", None, False), id="voided after payment: clear"),
    pytest.param(UNPAID, NOV_9, None, False, ("none", NOV_9, False), id="unpaid in Xero, hand-set date kept"),
    pytest.param(UNPAID, NOV_9, None, True, ("clear", None, False), id="unpaid, hand-set date cleared if allowed"),
]


@pytest.mark.parametrize(("xero", "autotask_paid", "last_written", "overwrite", "expected"), TABLE)
def test_paid_date(xero: dict[str, Any], autotask_paid, last_written, overwrite, expected):
    decision = decide_paid_date(xm.Invoice.model_validate(xero), autotask_paid, last_written, overwrite)
    assert (decision.action, decision.paid_date, decision.part_paid) == expected
    assert decision.reason
