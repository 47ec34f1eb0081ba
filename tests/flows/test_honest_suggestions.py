"""`settings suggest` is checked against recent billing: a tax map only when every (region, category) recent
invoices use maps, the billing-contact field only when Autotask reports it, and a warning with the number of
invoices a suggestion would hold. The holds are then read from what the invoices flow really does."""

from __future__ import annotations

from autoxero.mapping.suggest import merge
from autoxero.settings import SyncSettings
from autoxero.sync.build import build_run
from autoxero.sync.invoices import run_invoices
from autoxero.sync.suggest import suggest_settings
from sandbox.fixtures.builder import STANDARD, SUPPORT, Tenant
from tests.flows.test_invoice_rules import attention, run, settle


def proposal_for(local, tenant: Tenant):
    rt = settle(local, tenant)
    return rt, suggest_settings(build_run(rt, "settings", None, True))


def accept(rt, patch: dict) -> None:
    document = merge(SyncSettings().model_dump(mode="json"), patch)
    document["invoices"]["start_date"] = "2026-10-01"
    rt.state.settings.save(SyncSettings.model_validate(document), rt.state.settings.load()[1], author="tests")
    rt.state.control.resume("tests")


def customers() -> Tenant:
    return (Tenant().company(1, "Acme Ltd").contact(11, 1, "Ana", "Lee", billingContact=True)
            .company(2, "Bravo Ltd").contact(21, 2, "Ben", "Ng", billingContact=True))


def test_no_tax_map_when_a_recent_invoice_has_a_line_without_a_tax_category(local):
    tenant = (customers().invoice(3001, 1, "INV-3001", [(1, 100, STANDARD, SUPPORT)])
              .invoice(3002, 2, "INV-3002", [(1, 100, STANDARD, SUPPORT), (2, 50, None, SUPPORT)]))
    rt, proposal = proposal_for(local, tenant)
    assert "tax" not in proposal.patch.get("invoices", {})
    [why] = [r for r in proposal.reasons if r.startswith("tax: no map proposed")]
    assert "would hold 1 of the 2 invoices" in why and "New Zealand / (no tax category)" in why
    accept(rt, proposal.patch)
    run(rt, "invoices", run_invoices)
    assert "unmapped_tax" not in attention(rt, "invoices").values()  # accepting the proposal holds nothing


def test_the_map_held_back_would_hold_exactly_the_invoices_the_warning_counted(local):
    tenant = (customers().invoice(3001, 1, "INV-3001", [(1, 100, STANDARD, SUPPORT)])
              .invoice(3002, 2, "INV-3002", [(1, 100, STANDARD, SUPPORT), (2, 50, None, SUPPORT)]))
    rt, proposal = proposal_for(local, tenant)
    mapped = {"tax": {"mode": "mapped", "by_region_and_category": {"New Zealand|Standard": "OUTPUT2"}}}
    accept(rt, merge(proposal.patch, {"invoices": mapped}))
    run(rt, "invoices", run_invoices)
    assert [k for k, code in attention(rt, "invoices").items() if code == "unmapped_tax"] == ["3002"]


def test_a_tax_map_is_proposed_when_every_recent_pair_maps_and_holds_nothing(local):
    tenant = (customers().invoice(3001, 1, "INV-3001", [(1, 100, STANDARD, SUPPORT)])
              .invoice(3002, 2, "INV-3002", [(3, 40, STANDARD, SUPPORT)]))
    rt, proposal = proposal_for(local, tenant)
    tax = proposal.patch["invoices"]["tax"]
    assert tax["mode"] == "mapped" and tax["by_region_and_category"]["New Zealand|Standard"] == "OUTPUT2"
    assert any("none would be held" in r for r in proposal.reasons)
    accept(rt, proposal.patch)
    summary = run(rt, "invoices", run_invoices)
    assert summary["created"] == 2 and attention(rt, "invoices") == {}


def with_udfs(tenant: Tenant, *names: str) -> Tenant:
    tenant.at["userDefinedFieldDefinitions"] = {"Companies": [
        {"id": i, "name": name, "dataType": "string", "length": 100} for i, name in enumerate(names, start=1)]}
    return tenant


def test_the_billing_contact_field_is_the_one_autotask_reports(local):
    tenant = with_udfs(customers(), "Industry", "Accounts Email")
    tenant.at["Companies"][0]["userDefinedFields"] = [{"name": "Accounts Email", "value": "ana@example.co.nz"}]
    tenant.invoice(3001, 1, "INV-3001", [(1, 100, STANDARD, SUPPORT)])
    _, proposal = proposal_for(local, tenant)
    assert proposal.patch["contacts"]["billing_contact_udf"] == "Accounts Email"
    [why] = [r for r in proposal.reasons if r.startswith("contacts.billing_contact_udf")]
    assert "filled on 1 of the 1 companies" in why and "WARNING" not in why


def test_no_billing_contact_field_fits_so_none_is_proposed(local):
    tenant = with_udfs(customers(), "Industry", "Customer Since").invoice(
        3001, 1, "INV-3001", [(1, 100, STANDARD, SUPPORT)])
    _, proposal = proposal_for(local, tenant)
    assert proposal.patch["contacts"]["billing_contact_udf"] is None  # not the default 'Billing Contact'
    [why] = [r for r in proposal.reasons if r.startswith("contacts.billing_contact_udf")]
    assert "'Industry', 'Customer Since'" in why and "primary contact" in why


def test_a_field_naming_no_contact_is_warned_with_the_invoices_it_would_hold(local):
    tenant = with_udfs(customers(), "Billing Contact")
    tenant.at["Companies"][1]["userDefinedFields"] = [{"name": "Billing Contact", "value": "Nobody Here"}]
    tenant.invoice(3001, 1, "INV-3001", [(1, 100, STANDARD, SUPPORT)])
    tenant.invoice(3002, 2, "INV-3002", [(1, 100, STANDARD, SUPPORT)])
    tenant.invoice(3003, 2, "INV-3003", [(2, 100, STANDARD, SUPPORT)])
    rt, proposal = proposal_for(local, tenant)
    [why] = [r for r in proposal.reasons if r.startswith("contacts.billing_contact_udf")]
    assert "WARNING: on 1 (Bravo Ltd)" in why and "2 of their recent invoice(s)" in why
    accept(rt, proposal.patch)
    run(rt, "invoices", run_invoices)
    held = attention(rt, "invoices")
    assert sorted(held) == ["3002", "3003"] and "3001" not in held
