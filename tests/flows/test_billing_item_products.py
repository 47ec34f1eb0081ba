"""How a billing item reaches its product's SKU (issue 12, item 8), end to end through the sandbox.

Real BillingItems carry no productID (Autotask REST swagger BillingItemModel, as vendored in
panoramicdata/AutoTask.Psa.Api `AutoTask.Psa.Api/Data/BillingItemModel.cs`; tphakala/go-autotask
`entities/billing_items.go`, generated from a live tenant). The product is on the charge the item bills:
ContractCharges, TicketCharges and ProjectCharges each carry productID (same sources, *ChargeModel.cs), and
a recurring service item names its Service / ServiceBundle, which carries its own sku (go-autotask
`entities/services.go`, `entities/service_bundles.go`).
"""

from __future__ import annotations

from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from sandbox.fixtures.builder import MANAGED, STANDARD, SUPPORT, Tenant

LAPTOP, DOCK, M365, FIREWALL = 29684001, 29684002, 29684003, 29684004  # demo Products; SKUs HW-LAP-14 …


def run(rt, flow, body):
    return execute_run(rt, build_run(rt, flow, None, False), body)


def charge(tenant: Tenant, entity: str, cid: int, product: int | None, **fields) -> None:
    tenant.charge(entity, cid, product, **fields)


def settle(local, tenant: Tenant):
    local.sandbox.load(tenant.data)
    local.connect_xero_directly()
    return local.runtime()


def test_lines_billing_a_charge_carry_its_products_sku(local):
    tenant = Tenant().company(70, "Sierra Ltd")
    charge(tenant, "TicketCharges", 9101, LAPTOP, ticketID=555)
    charge(tenant, "ContractCharges", 9102, M365, contractID=51)
    charge(tenant, "ProjectCharges", 9103, DOCK, projectID=31)
    charge(tenant, "TicketCharges", 9104, FIREWALL, ticketID=556)  # HW-FW-60F: not an item in Xero
    charge(tenant, "TicketCharges", 9105, None, ticketID=557)  # a charge without a product
    tenant.invoice(7000, 70, "P-1", [
        (1, 1899, STANDARD, SUPPORT, {"ticketChargeID": 9101, "ticketID": 555, "billingItemType": 6}),
        (10, "36.6", STANDARD, SUPPORT, {"contractChargeID": 9102, "contractID": 51, "billingItemType": 7}),
        (2, 329, STANDARD, SUPPORT, {"projectChargeID": 9103, "projectID": 31, "billingItemType": 5}),
        (1, 1245, STANDARD, SUPPORT, {"ticketChargeID": 9104, "ticketID": 556, "billingItemType": 6}),
        (1, 10, STANDARD, SUPPORT, {"ticketChargeID": 9105, "ticketID": 557, "billingItemType": 6}),
        (2, 165, STANDARD, SUPPORT),
    ])
    rt = settle(local, tenant)
    run(rt, "contacts", run_contacts)
    assert run(rt, "invoices", run_invoices)["created"] == 1
    [doc] = [i for i in local.sandbox.xero.state("Invoices") if i.get("InvoiceNumber") == "P-1"]
    assert [line.get("ItemCode") for line in doc["LineItems"]] == [
        "HW-LAP-14", "SW-M365-BP", "HW-DOCK-USBC", None, None, None]


def test_recurring_service_lines_carry_the_services_sku(local):
    tenant = Tenant().company(71, "Tango Ltd")
    tenant.at["Services"] = [{"id": 41, "name": "Microsoft 365 seat", "sku": "SW-M365-BP", "isActive": True,
                              "billingCodeID": MANAGED}]
    tenant.at["ServiceBundles"] = [{"id": 42, "name": "Docked desk", "sku": "HW-DOCK-USBC", "isActive": True,
                                    "billingCodeID": MANAGED}]
    tenant.invoice(7100, 71, "S-1", [
        (5, "36.6", STANDARD, MANAGED, {"serviceID": 41, "contractServiceID": 511, "billingItemType": 8}),
        (1, 329, STANDARD, MANAGED, {"serviceBundleID": 42, "contractServiceBundleID": 512,
                                     "billingItemType": 10}),
    ])
    rt = settle(local, tenant)
    run(rt, "contacts", run_contacts)
    assert run(rt, "invoices", run_invoices)["created"] == 1
    [doc] = [i for i in local.sandbox.xero.state("Invoices") if i.get("InvoiceNumber") == "S-1"]
    assert [line.get("ItemCode") for line in doc["LineItems"]] == ["SW-M365-BP", "HW-DOCK-USBC"]


def test_charges_are_read_in_batches_not_one_call_per_line(local):
    tenant = Tenant().company(72, "Uniform Ltd")
    for n in range(60):
        charge(tenant, "TicketCharges", 9200 + n, LAPTOP, ticketID=600 + n)
        tenant.invoice(7200 + n, 72, f"B-{n}", [(1, 1899, STANDARD, SUPPORT, {"ticketChargeID": 9200 + n})])
    rt = settle(local, tenant)
    run(rt, "contacts", run_contacts)
    local.sandbox.autotask.calls.reset()
    summary = run(rt, "invoices", run_invoices)
    assert summary["created"] == 60
    calls = local.sandbox.autotask.calls.snapshot()["calls"]
    charge_reads = {route: n for route, n in calls.items() if "Charges" in route}
    assert sum(charge_reads.values()) == 1, charge_reads  # 60 lines' charges in one `in` query
