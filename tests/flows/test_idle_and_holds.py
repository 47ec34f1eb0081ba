"""Idle is free: Xero reference data cached in the table (fresh for 6 h, forgotten when Xero refuses a code or
the settings change), and a document refused for a lasting reason is not sent again until its inputs change.

Truth is Xero's own call log and records (the simulator), not autoxero's counters."""

from __future__ import annotations

from autoxero.sync.build import build_run, execute_run
from autoxero.sync.invoices import run_invoices
from sandbox.fixtures.builder import NO_EXTERNAL, STANDARD, SUPPORT, Tenant

from .test_invoice_rules import attention, settle

HOURS = 3600


def run(rt):
    return execute_run(rt, build_run(rt, "invoices", None, False), run_invoices)


def xero_calls(local) -> dict[str, int]:
    calls = {k: v for k, v in local.sandbox.xero.calls.snapshot()["calls"].items() if "/api.xro/" in k}
    local.sandbox.xero.calls.reset()
    return calls


def reads(calls: dict[str, int]) -> set[str]:
    return {k.rsplit("/", 1)[-1] for k in calls if k.startswith("GET ")}


def puts(calls: dict[str, int]) -> int:
    """Invoices sent to Xero (requests: each carries up to 50)."""
    return calls.get("PUT /api.xro/2.0/Invoices", 0)


def later(rt, seconds: float) -> None:
    """Move the table's clock (what the cache ages on) forward."""
    now = rt.state.table.clock()
    rt.state.table.clock = lambda: now + seconds


def waiting_tenant() -> Tenant:
    return (Tenant().company(30, "Lima Ltd").company(31, "Mike Ltd").xero_contact("Other Customer")
            .xero_invoice("DUP-1", "Other Customer")
            .invoice(3000, 30, "OK-1", [(1, 10, STANDARD, SUPPORT)])
            .invoice(3001, 30, "BAD-ACCT", [(1, 10, STANDARD, NO_EXTERNAL)])
            .invoice(3002, 30, "BAD-TAX", [(1, 10, STANDARD, SUPPORT)], taxRegionName="Mars")
            .invoice(3003, 31, "EMPTY-1", [])
            .invoice(3004, 31, "DUP-1", [(1, 10, STANDARD, SUPPORT)]))


SETTINGS = {"invoices": {"default_account_code": "999", "tax": {"mode": "mapped", "by_region_and_category": {
    "New Zealand|Standard": "OUTPUT2"}}}}


def test_an_idle_run_with_items_waiting_costs_no_xero_call(local):
    rt = settle(local, waiting_tenant(), SETTINGS)
    first = run(rt)
    assert first["created"] == 1
    assert set(attention(rt, "invoices")) == {"3001", "3002", "3003", "3004"}
    xero_calls(local)
    for hours_later in (0, 7):  # also once the cached reference data is stale: nothing needs it
        later(rt, hours_later * HOURS)
        summary = run(rt)
        assert xero_calls(local) == {}, f"{hours_later} h later"
        assert summary["xero_calls"] == 0 and summary.get("held") == 4
    assert set(attention(rt, "invoices")) == {"3001", "3002", "3003", "3004"}  # still waiting on a person


def test_a_refused_document_is_sent_again_once_its_inputs_change(local):
    tenant = (Tenant().company(31, "Mike Ltd").xero_contact("Other Customer").xero_invoice("DUP-1", "Other Customer")
              .invoice(3004, 31, "DUP-1", [(1, 10, STANDARD, SUPPORT)]))
    rt = settle(local, tenant)
    run(rt)
    assert puts(xero_calls(local)) == 1 and attention(rt, "invoices") == {"3004": "xero_rejected"}
    run(rt)
    assert puts(xero_calls(local)) == 0  # the same request would be refused the same way
    # the invoice changes in Autotask: sent again, and this time Xero takes it
    local.sandbox.autotask.touch("Invoices", 3004, {"invoiceNumber": "DUP-1R"})
    summary = run(rt)
    assert puts(xero_calls(local)) == 1 and summary["created"] == 1
    assert [i["InvoiceNumber"] for i in local.sandbox.xero.state("Invoices") if i["InvoiceNumber"].startswith("DUP")
            ] == ["DUP-1", "DUP-1R"]
    assert attention(rt, "invoices") == {}


def test_a_refused_document_is_sent_again_after_a_settings_change(local):
    tenant = (Tenant().company(31, "Mike Ltd").xero_contact("Other Customer").xero_invoice("DUP-1", "Other Customer")
              .invoice(3004, 31, "DUP-1", [(1, 10, STANDARD, SUPPORT)]))
    rt = settle(local, tenant)
    run(rt)
    run(rt)
    assert puts(xero_calls(local)) == 1
    settings, version = rt.state.settings.load()
    rt.state.settings.save(settings.model_copy(update={"invoices": settings.invoices.model_copy(
        update={"number_prefix": "AT-"})}), version)
    rt = local.runtime()
    assert run(rt)["created"] == 1
    assert any(i["InvoiceNumber"] == "AT-DUP-1" for i in local.sandbox.xero.state("Invoices"))


def test_a_held_invoice_is_sent_again_when_a_record_it_is_made_from_changes_in_autotask(local):
    """Held for a tax type Xero does not have (the company is tax exempt); once the company is no longer exempt
    in Autotask, the invoice is made from different inputs and goes, without a person's retry."""
    tenant = Tenant().company(32, "November Ltd", isTaxExempt=True).invoice(3005, 32, "EX-1", [(1, 10, STANDARD,
                                                                                                 SUPPORT)])
    rt = settle(local, tenant, {"invoices": {"tax": {"exempt_tax_type": "NOSUCHRATE"}}})
    run(rt)
    assert set(attention(rt, "invoices")) == {"3005"}
    xero_calls(local)
    assert run(rt).get("held") == 1 and puts(xero_calls(local)) == 0
    local.sandbox.autotask.touch("Companies", 32, {"isTaxExempt": False})
    assert run(rt)["created"] == 1
    assert [i["InvoiceNumber"] for i in local.sandbox.xero.state("Invoices") if i["InvoiceNumber"] == "EX-1"]


def add_invoice(local, iid: int, number: str) -> None:
    local.sandbox.autotask.create("Invoices", {
        "id": iid, "companyID": 80, "invoiceNumber": number, "invoiceDateTime": "2026-11-02T00:00:00Z",
        "createDateTime": "2026-11-02T00:00:00Z", "isVoided": False, "paymentTerm": 1,
        "taxRegionName": "New Zealand", "invoiceEditorTemplateID": 101,
        "billingItems": [{"id": iid * 10, "companyID": 80, "itemName": "Work", "quantity": 1, "rate": 10,
                          "taxDollars": 1.5, "billingCodeID": SUPPORT, "taxCategoryID": STANDARD}]})


def test_xero_reference_is_cached_and_invalidated_by_ttl_settings_and_refusals(local):
    rt = settle(local, Tenant().company(80, "Romeo Ltd").invoice(8000, 80, "C-1", [(1, 10, STANDARD, SUPPORT)]))
    run(rt)
    assert "Accounts" in reads(xero_calls(local))
    add_invoice(local, 8001, "C-2")
    assert run(rt)["created"] == 1
    assert reads(xero_calls(local)) == set()  # from the table: a new run, no reference read
    later(rt, 7 * HOURS)
    add_invoice(local, 8002, "C-3")
    assert run(rt)["created"] == 1
    assert "Accounts" in reads(xero_calls(local))  # stale after 6 h: read again
    settings, version = rt.state.settings.load()
    rt.state.settings.save(settings.model_copy(update={"alert_on_attention": False}), version)
    rt = local.runtime()
    add_invoice(local, 8003, "C-4")
    assert run(rt)["created"] == 1
    assert "Accounts" in reads(xero_calls(local))  # a settings push invalidates the cache
    # Someone archives account 200 in Xero; the cache still lists it, so the invoice goes and Xero refuses it
    [org] = local.sandbox.xero.orgs.values()
    org.account_by_code("200")["Status"] = "ARCHIVED"
    add_invoice(local, 8004, "C-5")
    run(rt)
    calls = xero_calls(local)
    assert puts(calls) == 1 and "Accounts" not in reads(calls)
    assert attention(rt, "invoices") == {"8004": "xero_rejected"}
    run(rt)  # the refusal dropped the cached accounts: read afresh, the invoice is now stopped before Xero
    calls = xero_calls(local)
    assert "Accounts" in reads(calls) and puts(calls) == 0
    assert attention(rt, "invoices") == {"8004": "unknown_account"}
