"""A person's Retry, Skip and Unskip from the console (console/actions.py) against the sandbox: a retry the stack
cannot carry out (paused, or its run stops before sending anything) leaves the record on the attention list as
it was; an action on a flow that does not exist is refused."""

from __future__ import annotations

import pytest

from autoxero.console.actions import ActionRefused, retry, skip, unskip
from autoxero.console.auth import Person
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero_cli.invoke import FakeContext
from sandbox.fixtures.builder import NO_EXTERNAL, STANDARD, Tenant
from tests.flows.test_invoice_rules import run, settle

OPERATOR = Person("op@msp.example", "op-1", ("operator",))


@pytest.fixture
def held(local):
    """Invoice 4003 held: its billing code maps to account 999, which Xero does not have."""
    tenant = (Tenant().company(1, "Acme Ltd").contact(11, 1, "Ana", "Lee", billingContact=True)
              .invoice(4003, 1, "INV-4003", [(1, 70, STANDARD, NO_EXTERNAL)]))
    rt = settle(local, tenant, {"invoices": {"account_by_billing_code": {str(NO_EXTERNAL): "999"}}})
    run(rt, "contacts", run_contacts)
    run(rt, "invoices", run_invoices)
    item = rt.state.attention.get("invoices", 4003)
    assert item is not None and "999" in item.message
    return rt, item


def _ledger_actions(rt) -> list[str]:
    return [e.action for e in rt.state.ledger.history("invoices", 4003)]


def test_a_retry_while_the_stack_is_paused_is_refused_and_the_record_stays_on_the_list(held):
    rt, item = held
    rt.state.control.pause("ann@msp.example", "month-end close")
    before = _ledger_actions(rt)
    with pytest.raises(ActionRefused, match="paused"):
        retry(rt, "invoices", "4003", OPERATOR, FakeContext("console", 29))
    assert rt.state.attention.get("invoices", 4003) == item and _ledger_actions(rt) == before


def test_a_retry_whose_run_stops_before_sending_puts_the_record_back_as_it_was(held):
    rt, item = held
    outcome = retry(rt, "invoices", "4003", OPERATOR, FakeContext("console", 1))  # 1 s: under the safety margin
    assert not outcome.ok and "back on the list" in outcome.message
    again = rt.state.attention.get("invoices", 4003)
    assert again is not None and (again.code, again.message, again.fix) == (item.code, item.message, item.fix)


def test_an_action_on_a_flow_that_does_not_exist_is_refused(held):
    rt, _ = held
    for act in (lambda: skip(rt, "nonsense", "4003", "typo", OPERATOR),
                lambda: unskip(rt, "nonsense", "4003", OPERATOR),
                lambda: retry(rt, "nonsense", "4003", OPERATOR, FakeContext("console", 29))):
        with pytest.raises(ActionRefused, match="no flow called 'nonsense'"):
            act()
    assert not rt.state.attention.is_skipped("nonsense", "4003")
