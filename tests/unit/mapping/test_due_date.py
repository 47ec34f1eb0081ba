"""Due date of an invoice (mapping/invoices.py::due_date); a bill's is in test_purchase_orders.py.

Payment terms in the shared world: 1 "Net 20" (20 days), 2 "On receipt" (0 days), 3 "No days" (none given).
Each row: the invoice's dueDate and paymentTerm, and the due date. Issued on 2026-11-02.
"""

from __future__ import annotations

import datetime as dt

import pytest

from autoxero.mapping.invoices import due_date

ISSUED = dt.date(2026, 11, 2)

INVOICES = [
    pytest.param(None, None, ISSUED, id="no due date, no term: due on issue"),
    pytest.param("2026-12-01", None, dt.date(2026, 12, 1), id="Autotask's due date"),
    pytest.param("2026-12-01", 1, dt.date(2026, 12, 1), id="Autotask's due date wins over the term"),
    pytest.param("2026-10-30", None, ISSUED, id="a due date before issue: due on issue (Xero refuses earlier)"),
    pytest.param(None, 1, dt.date(2026, 11, 22), id="term of 20 days"),
    pytest.param(None, 2, ISSUED, id="term of 0 days: due on issue"),
    pytest.param(None, 3, ISSUED, id="term without days: due on issue"),
    pytest.param(None, 99, ISSUED, id="a term the reference data lacks: due on issue"),
]


@pytest.mark.parametrize(("autotask_due", "term", "expected"), INVOICES)
def test_invoice_due_date(context, autotask_due, term, expected):
    ctx = context(invoice={"dueDate": autotask_due, "paymentTerm": term})
    assert due_date(ctx.invoice, ctx.ref, ISSUED) == expected
