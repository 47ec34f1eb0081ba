"""One malformed Autotask record never stops a flow: it goes to attention with its id and what is wrong, the
rest syncs, and the item clears itself once the record is corrected in Autotask."""

from __future__ import annotations

from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from sandbox.fixtures.builder import STANDARD, SUPPORT, Tenant
from tests.flows.test_invoice_rules import contacts_named, run, settle, xero


def broken_tenant() -> Tenant:
    tenant = (Tenant().company(1, "Alpha Ltd").contact(11, 1, "Ana", "Lee", billingContact=True)
              .company(2, "Bravo Ltd").contact(21, 2, "Ben", "Ngata", billingContact=True)
              .contact(12, 1, "Orphan", "Contact")
              .invoice(10, 1, "A-10", [(1, 100, STANDARD, SUPPORT)])
              .invoice(11, 1, "A-11", [(2, 50, STANDARD, SUPPORT)]))
    next(c for c in tenant.at["Companies"] if c["id"] == 2)["companyName"] = None
    next(c for c in tenant.at["Contacts"] if c["id"] == 12)["companyID"] = None
    next(i for i in tenant.at["Invoices"] if i["id"] == 11)["companyID"] = None
    return tenant


def items(rt, flow: str) -> dict[str, tuple[str, str]]:
    return {i.record_id: (i.code, i.message) for i in rt.state.attention.list(flow)}


def test_malformed_records_go_to_attention_and_the_rest_syncs(local):
    rt = settle(local, broken_tenant(), {"invoices": {"settle_minutes": 0}})
    contacts = run(rt, "contacts", run_contacts)
    assert contacts["created"] == 1 and contacts["stopped"] is None
    assert [c["Name"] for c in contacts_named(local, "Alpha Ltd")] == ["Alpha Ltd"]
    code, message = items(rt, "contacts")["2"]
    assert code == "autotask_malformed"
    assert "Autotask company 2" in message and "companyName is empty" in message

    invoices = run(rt, "invoices", run_invoices)
    assert invoices["created"] == 1 and invoices["stopped"] is None
    assert [i["InvoiceNumber"] for i in xero(local, "Invoices")] == ["A-10"]
    code, message = items(rt, "invoices")["11"]
    assert code == "autotask_malformed" and "Autotask invoice 11" in message and "companyID is empty" in message

    local.sandbox.autotask.touch("Companies", 2, {"companyName": "Bravo Ltd"})   # a person corrects it
    run(local.runtime(), "contacts", run_contacts)
    assert [c["Name"] for c in contacts_named(local, "Bravo Ltd")] == ["Bravo Ltd"]
    assert "2" not in items(rt, "contacts")


def test_without_a_flow_run_a_malformed_record_is_a_clear_error(local):
    import pytest

    from autoxero.autotask import AutotaskValidationError
    from autoxero.autotask import models as at
    from autoxero.autotask.query import Query, eq

    rt = settle(local, broken_tenant())
    client = rt.autotask_client()
    with pytest.raises(AutotaskValidationError, match="Autotask invoice 11 cannot be read: companyID is empty"):
        list(client.query_models("Invoices", at.Invoice, Query([eq("isVoided", False)])))
