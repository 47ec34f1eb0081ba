"""What every real Autotask tenant has or does that the product must live with (issue 12, item 12)."""

from __future__ import annotations

from autoxero.sync.contacts import run_contacts
from sandbox.autotask.simulator import OWN_COMPANY
from sandbox.fixtures.builder import Tenant
from tests.flows.test_invoice_rules import contacts_named, run, settle


def test_the_msps_own_company_is_never_a_xero_contact(local):
    """Company id 0, the MSP itself, is in every tenant (apigrate/autotask-restapi README: the root company)."""
    rt = settle(local, Tenant().company(3, "Charlie Ltd").contact(31, 3, "Cai", "Ro", billingContact=True))
    assert local.sandbox.autotask.record("Companies", 0)["companyName"] == OWN_COMPANY["companyName"]
    summary = run(rt, "contacts", run_contacts)
    assert summary["created"] == 1 and contacts_named(local, "Charlie Ltd")
    assert contacts_named(local, OWN_COMPANY["companyName"]) == []
    assert "0" not in {i.record_id for i in rt.state.attention.list("contacts")}
    local.sandbox.autotask.touch("Companies", 0, {"phone": "09 555 0001"})   # and a webhook for it changes nothing
    from autoxero.sync.contacts import sync_companies
    run(local.runtime(), "contacts", lambda r: sync_companies(r, [0]))
    assert contacts_named(local, OWN_COMPANY["companyName"]) == []
