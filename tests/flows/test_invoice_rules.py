"""Contacts and invoices rules end to end: sandbox APIs, moto state, and (where it says so) the handlers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autoxero.settings import SyncSettings
from autoxero.state import StateError
from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero_cli.aws_calls import acting_as, flow_function
from autoxero_cli.invoke import invoke
from autoxero_cli.local import with_start_date
from autoxero_cli.localenv import LOCAL_STACK_NAME
from sandbox.fixtures.builder import EXEMPT, MANAGED, NO_EXTERNAL, STANDARD, SUPPORT, Tenant


def run(runtime, flow, body):
    with acting_as(LOCAL_STACK_NAME, flow_function(flow)):  # its calls are that flow's function's
        return execute_run(runtime, build_run(runtime, flow, None, False), body)


def settle(local, tenant: Tenant, settings: dict | None = None):
    local.sandbox.load(tenant.data)
    local.connect_xero_directly()  # loading a fixture forgets the sandbox's issued tokens
    rt = local.runtime()
    if settings:
        rt.state.settings.save(SyncSettings.model_validate(with_start_date(settings)), rt.state.settings.load()[1])
    return local.runtime()


def xero(local, entity: str) -> list[dict]:
    return local.sandbox.xero.state(entity)


def contacts_named(local, name: str) -> list[dict]:
    return [c for c in xero(local, "Contacts") if c["Name"] == name]


def attention(rt, flow: str) -> dict[str, str]:
    return {i.record_id: i.code for i in rt.state.attention.list(flow)}


def handler(local, flow: str) -> dict:
    function = {"contacts": "SyncContactsFunction", "invoices": "SyncInvoicesFunction"}[flow]
    return invoke(function, {"flow": flow}, local.stack, local.sandbox.endpoints)


# ----------------------------------------------------------------------------- contacts


def test_exact_name_match_then_a_rename_renames_not_duplicates(local):
    tenant = Tenant().company(1, "Acme Ltd").contact(11, 1, "Ana", "Lee", billingContact=True)
    tenant.xero_contact("Acme Ltd", EmailAddress="old@acme.example")
    rt = settle(local, tenant)
    summary = handler(local, "contacts")
    assert summary["updated"] == 1 and summary.get("created", 0) == 0
    [matched] = contacts_named(local, "Acme Ltd")
    assert matched["FirstName"] == "Ana" and matched["ContactNumber"] == "AT-1"
    local.sandbox.autotask.touch("Companies", 1, {"companyName": "Acme Group Ltd"})
    run(rt, "contacts", run_contacts)
    assert contacts_named(local, "Acme Ltd") == []
    assert [c["ContactID"] for c in contacts_named(local, "Acme Group Ltd")] == [matched["ContactID"]]


def test_match_by_account_number(local):
    tenant = Tenant().company(2, "Beta Holdings", companyNumber="C-9")
    tenant.xero_contact("Beta (old name)", AccountNumber="C-9")
    rt = settle(local, tenant, {"contacts": {"match_by": "account_number"}})
    assert run(rt, "contacts", run_contacts)["updated"] == 1
    assert contacts_named(local, "Beta Holdings")[0]["AccountNumber"] == "C-9"


@pytest.mark.parametrize(("contacts", "udf", "expected"), [
    ([("Ana", "Lee", {"billingContact": True}), ("Bo", "Ng", {"primaryContact": True})], None, "Ana"),
    ([("Ana", "Lee", {}), ("Bo", "Ng", {"primaryContact": True})], None, "Bo"),
    ([("Ana", "Lee", {"billingContact": True}), ("Bo", "Ng", {})], "Bo Ng", "Bo"),
])
def test_billing_contact_choice(local, contacts, udf, expected):
    tenant = Tenant().company(3, "Gamma Ltd", userDefinedFields=[{"name": "Billing Contact", "value": udf}]
                              if udf else [])
    for index, (first, last, flags) in enumerate(contacts):
        tenant.contact(30 + index, 3, first, last, **flags)
    rt = settle(local, tenant)
    run(rt, "contacts", run_contacts)
    assert contacts_named(local, "Gamma Ltd")[0]["FirstName"] == expected


def test_conflicts_go_to_attention_never_to_a_duplicate(local):
    tenant = (Tenant().company(4, "Delta Dental").company(5, "Echo Plumbing").company(6, "Foxtrot Ltd",
              userDefinedFields=[{"name": "Billing Contact", "value": "Nobody Here"}])
              .company(7, "Golf Ltd").contact(71, 7, "Gia", "Park", billingContact=True)
              .xero_contact("delta dental").xero_contact("Echo Plumbing", ContactStatus="ARCHIVED"))
    rt = settle(local, tenant)
    summary = run(rt, "contacts", run_contacts)
    assert attention(rt, "contacts") == {"4": "contact_conflict", "5": "contact_archived",
                                         "6": "billing_contact_unknown"}
    assert summary["created"] == 1  # Golf Ltd still syncs
    assert contacts_named(local, "Delta Dental") == [] and len(contacts_named(local, "Echo Plumbing")) == 1
    items = {i.record_id: i for i in rt.state.attention.list("contacts")}
    assert "differs only in capitals" in items["4"].message and "Nobody Here" in items["6"].message


def test_hostile_names_sync_once_and_match_again(local):
    names = {8: "O'Brien & Sons Ltd", 9: 'Ngā Tāngata "Whānau" Trust', 10: "Trailing Space Ltd  ",
             12: 'Evil" OR Name!="x'}
    tenant = Tenant()
    for cid, name in names.items():
        tenant.company(cid, name).invoice(1000 + cid, cid, f"H-{cid}", [(1, 100, STANDARD, SUPPORT)])
    rt = settle(local, tenant)
    assert run(rt, "contacts", run_contacts)["created"] == 4
    # Forget the map: matching must find the same contacts by name / ContactNumber, with no where injection.
    rt.state.table.table.delete_item(Key={"pk": "MAP#contact#8", "sk": "MAP"})
    run(rt, "contacts", run_contacts)
    assert len(contacts_named(local, "O'Brien & Sons Ltd")) == 1
    assert len(contacts_named(local, "Trailing Space Ltd")) == 1
    assert run(rt, "invoices", run_invoices)["created"] == 4


# ----------------------------------------------------------------------------- invoices: mappings


def invoice_in_xero(local, number: str) -> dict:
    [found] = [i for i in xero(local, "Invoices") if i.get("InvoiceNumber") == number]
    return found


def test_mappings_end_to_end_through_the_handler(local):
    tenant = (Tenant().company(20, "Hotel Ltd", territoryID=2, invoiceTemplateID=102)
              .contact(201, 20, "Hana", "Ito", billingContact=True)
              .charge("TicketCharges", 62001, 29684001, ticketID=300)
              .invoice(2000, 20, "INV-2000", [(3, "55.1234567", STANDARD, MANAGED),
                                              (1.5, 120, STANDARD, SUPPORT, {"ticketChargeID": 62001}),
                                              (2, 10, EXEMPT, NO_EXTERNAL)],
                       orderNumber="PO-778", invoiceEditorTemplateID=102))
    settings = {"invoices": {"status": "AUTHORISED", "tax": {"mode": "mapped", "by_region_and_category": {
        "New Zealand|Standard": "OUTPUT2", "New Zealand|Exempt": "NONE"}},
        "tracking": [{"category": "Region", "source": "territory"}],
        "branding_by_template": {"102": "Managed Services"}}}
    settle(local, tenant, settings)
    handler(local, "contacts")
    summary = handler(local, "invoices")
    assert summary["created"] == 1, summary
    doc = invoice_in_xero(local, "INV-2000")
    lines = doc["LineItems"]
    assert [line["AccountCode"] for line in lines[:3]] == ["210", "200", "200"]  # external number, then default
    assert lines[0]["UnitAmount"] == Decimal("55.1235") and lines[0]["Quantity"] == Decimal("3")
    assert lines[1].get("ItemCode") == "HW-LAP-14"
    assert [line["TaxType"] for line in lines[:3]] == ["OUTPUT2", "OUTPUT2", "NONE"]
    assert lines[0]["Tracking"][0]["Option"] == "Wellington"
    theme = {t["Name"]: t["BrandingThemeID"] for t in xero(local, "BrandingThemes")}
    assert doc["BrandingThemeID"] == theme["Managed Services"]
    assert doc["Status"] == "AUTHORISED" and doc["Reference"] == "PO-778"
    assert doc["DueDateString"].startswith("2026-11-21")  # payment term Net 20 from the invoice date
    at_total = next(i for i in tenant.at["Invoices"] if i["id"] == 2000)["invoiceTotal"]
    assert Decimal(str(doc["Total"])) == Decimal(str(at_total))
    assert local.sandbox.autotask.record("Invoices", 2000)["webServiceDate"]  # exported: stamped in Autotask


def test_negative_invoice_becomes_a_credit_note(local):
    tenant = Tenant().company(21, "India Ltd").invoice(2100, 21, "CR-1", [(1, -200, STANDARD, SUPPORT)])
    rt = settle(local, tenant)
    assert run(rt, "invoices", run_invoices)["created"] == 1
    [note] = [n for n in xero(local, "CreditNotes") if n.get("CreditNoteNumber") == "CR-1"]
    assert Decimal(str(note["Total"])) == Decimal("230.00") and note["Type"] == "ACCRECCREDIT"


def test_xero_numbering_writes_the_number_back(local):
    tenant = Tenant().company(22, "Juliet Ltd").invoice(2200, 22, "AT-2200", [(1, 50, STANDARD, SUPPORT)])
    rt = settle(local, tenant, {"invoices": {"numbering": "xero"}})
    run(rt, "invoices", run_invoices)
    [doc] = [i for i in xero(local, "Invoices") if (i.get("Reference") or "").startswith("AT-2200")]
    assert doc["InvoiceNumber"] and doc["InvoiceNumber"] != "AT-2200"
    assert rt.state.ids.get("invoice", 2200).xero_number == doc["InvoiceNumber"]


def test_small_rounding_becomes_a_line_and_large_goes_to_attention(local):
    tenant = (Tenant().company(23, "Kilo Ltd")
              .invoice(2300, 23, "R-1", [(1, 100, STANDARD, SUPPORT)], total_override=Decimal("115.03"))
              .invoice(2301, 23, "R-2", [(1, 100, STANDARD, SUPPORT)], total_override=Decimal("118.00")))
    for item in tenant.at["BillingItems"]:  # keep Autotask's own sum consistent with the total
        if item["invoiceID"] == 2300:
            item["totalAmount"], item["taxDollars"] = 115.03, 15.03
        if item["invoiceID"] == 2301:
            item["totalAmount"], item["taxDollars"] = 118.0, 18.0
    rt = settle(local, tenant)
    run(rt, "invoices", run_invoices)
    doc = invoice_in_xero(local, "R-1")
    assert Decimal(str(doc["Total"])) == Decimal("115.03")
    assert doc["LineItems"][-1]["Description"] == "Rounding" and doc["LineItems"][-1]["AccountCode"] == "860"
    assert attention(rt, "invoices") == {"2301": "total_mismatch"}


# ----------------------------------------------------------------------------- invoices: bad input


def test_each_bad_invoice_lands_in_attention_and_the_rest_sync(local):
    tenant = (Tenant().company(30, "Lima Ltd").company(31, "Mike Ltd").xero_contact("Other Customer")
              .xero_invoice("DUP-1", "Other Customer")
              .invoice(3000, 30, "OK-1", [(1, 10, STANDARD, SUPPORT)])
              .invoice(3001, 30, "BAD-ACCT", [(1, 10, STANDARD, NO_EXTERNAL)])
              .invoice(3002, 30, "BAD-TAX", [(1, 10, STANDARD, SUPPORT)], taxRegionName="Mars")
              .invoice(3003, 31, "EMPTY-1", [])
              .invoice(3004, 31, "DUP-1", [(1, 10, STANDARD, SUPPORT)])
              .invoice(3005, 31, "OK-2", [(2, 20, STANDARD, SUPPORT)]))
    settings = {"invoices": {"default_account_code": "999", "tax": {"mode": "mapped", "by_region_and_category": {
        "New Zealand|Standard": "OUTPUT2"}}}}
    rt = settle(local, tenant, settings)
    summary = run(rt, "invoices", run_invoices)
    assert summary["created"] == 2
    assert attention(rt, "invoices") == {"3001": "unknown_account", "3002": "unmapped_tax",
                                         "3003": "no_lines", "3004": "xero_rejected"}
    items = {i.record_id: i for i in rt.state.attention.list("invoices")}
    assert "999" in items["3001"].message and "number_prefix" in items["3004"].fix
    assert len([i for i in xero(local, "Invoices") if i.get("InvoiceNumber") == "DUP-1"]) == 1


def test_invoice_still_being_processed_waits_then_reports(local, monkeypatch):
    import datetime as dt

    tenant = Tenant().company(40, "November Ltd").invoice(4000, 40, "W-1", [(1, 10, STANDARD, SUPPORT)],
                                                          total_override=Decimal("999.00"))
    rt = settle(local, tenant)
    runner = build_run(rt, "invoices", None, False)
    runner.now = lambda: dt.datetime(2026, 11, 1, 1, 5, tzinfo=dt.UTC)  # five minutes after creation
    assert execute_run(rt, runner, run_invoices).get("waiting") == 1
    assert attention(rt, "invoices") == {}
    later = build_run(rt, "invoices", None, False)
    later.now = lambda: dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    execute_run(rt, later, run_invoices)
    assert attention(rt, "invoices") == {"4000": "incomplete_invoice"}


# ----------------------------------------------------------------------------- exactly once


def test_crash_between_xeros_answer_and_the_state_write_leaves_one_invoice(local, monkeypatch):
    from autoxero.state.idmap import IdMap

    tenant = Tenant().company(50, "Oscar Ltd").invoice(5000, 50, "X-1", [(1, 10, STANDARD, SUPPORT)])
    rt = settle(local, tenant)
    run(rt, "contacts", run_contacts)
    original = IdMap.record_many

    def crash(self, kind, *args, **kwargs):
        if kind == "invoice":
            raise StateError("injected crash after Xero answered")
        return original(self, kind, *args, **kwargs)

    monkeypatch.setattr(IdMap, "record_many", crash)
    with pytest.raises(StateError):
        run(rt, "invoices", run_invoices)
    monkeypatch.setattr(IdMap, "record_many", original)
    assert rt.state.ids.get("invoice", 5000).status == "pending"
    summary = run(rt, "invoices", run_invoices)
    assert summary.get("recovered") == 1 and summary.get("created", 0) == 0
    assert len([i for i in xero(local, "Invoices") if i.get("InvoiceNumber") == "X-1"]) == 1
    assert rt.state.ids.get("invoice", 5000).status == "synced"


@pytest.mark.parametrize("order_number", ['PO "77"', "PO\\77"])
def test_an_interrupted_run_recovers_by_a_reference_with_quotes_or_backslashes(local, monkeypatch, order_number):
    """With Xero numbering the look-up goes by Reference through `where`, which has no escapes (Xero-Java#347)."""
    from autoxero.state.idmap import IdMap

    tenant = Tenant().company(51, "Quebec Ltd").invoice(5100, 51, "X-51", [(1, 10, STANDARD, SUPPORT)],
                                                        orderNumber=order_number)
    rt = settle(local, tenant, {"invoices": {"numbering": "xero"}})
    run(rt, "contacts", run_contacts)
    original = IdMap.record_many

    def crash(self, kind, *args, **kwargs):
        if kind == "invoice":
            raise StateError("injected crash after Xero answered")
        return original(self, kind, *args, **kwargs)

    monkeypatch.setattr(IdMap, "record_many", crash)
    with pytest.raises(StateError):
        run(rt, "invoices", run_invoices)
    monkeypatch.setattr(IdMap, "record_many", original)
    summary = run(rt, "invoices", run_invoices)
    assert summary.get("recovered") == 1 and summary.get("created", 0) == 0, summary
    [doc] = [i for i in xero(local, "Invoices") if (i.get("Reference") or "").startswith("X-51")]
    assert '"' not in doc["Reference"] and "77" in doc["Reference"]


def test_a_rerun_with_nothing_new_writes_nothing(local):
    tenant = Tenant().company(60, "Papa Ltd").invoice(6000, 60, "N-1", [(1, 10, STANDARD, SUPPORT)])
    rt = settle(local, tenant)
    run(rt, "contacts", run_contacts)
    run(rt, "invoices", run_invoices)
    again = run(rt, "invoices", run_invoices)
    assert again.get("created", 0) == 0 and again["xero_calls"] == 0


def test_voided_after_sync_is_voided_in_xero(local):
    import datetime as dt

    tenant = Tenant().company(70, "Quebec Ltd").invoice(7000, 70, "V-1", [(1, 10, STANDARD, SUPPORT)])
    rt = settle(local, tenant, {"invoices": {"status": "AUTHORISED"}})
    run(rt, "invoices", run_invoices)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local.sandbox.autotask.touch("Invoices", 7000, {"isVoided": True, "voidedDate": now})
    summary = run(rt, "invoices", run_invoices)
    assert summary.get("voided") == 1
    assert invoice_in_xero(local, "V-1")["Status"] == "VOIDED"


def test_autotask_reference_is_cached_between_runs_until_a_record_needs_a_new_code(local):
    tenant = Tenant().company(80, "Romeo Ltd").invoice(8000, 80, "C-1", [(1, 10, STANDARD, SUPPORT)])
    rt = settle(local, tenant)
    first = run(rt, "invoices", run_invoices)
    quiet = run(rt, "invoices", run_invoices)
    # reference data came from the table: the invoices and voids queries, and the pacer's ThresholdInformation read
    assert quiet["autotask_calls"] <= 3 < first["autotask_calls"]
    code = dict(tenant.at["BillingCodes"][0], id=777, name="New Work Type", externalNumber="230")
    local.sandbox.autotask.create("BillingCodes", code)
    local.sandbox.autotask.create("Invoices", {
        "id": 8001, "companyID": 80, "invoiceNumber": "C-2", "invoiceDateTime": "2026-11-02T00:00:00Z",
        "createDateTime": "2026-11-02T00:00:00Z", "invoiceTotal": 11.5, "totalTaxValue": 1.5, "isVoided": False,
        "paymentTerm": 1, "taxRegionName": "New Zealand", "invoiceEditorTemplateID": 101})
    local.sandbox.autotask.create("BillingItems", {
        "id": 990001, "invoiceID": 8001, "companyID": 80, "itemName": "New", "quantity": 1, "rate": 10,
        "extendedPrice": 10, "taxDollars": 1.5, "totalAmount": 11.5, "billingCodeID": 777, "taxCategoryID": 1})
    assert run(rt, "invoices", run_invoices)["created"] == 1
    assert invoice_in_xero(local, "C-2")["LineItems"][0]["AccountCode"] == "230"  # the new code's account
