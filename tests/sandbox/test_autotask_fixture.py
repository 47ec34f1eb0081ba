"""The Autotask half of demo.json: generated, up to date, believable, and adding up to the cent."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from sandbox.autotask.schema import ENTITIES
from sandbox.autotask.simulator import UDF_KEY
from sandbox.autotask.testing import running_autotask
from sandbox.autotask.values import parse_datetime
from sandbox.fixtures import generate
from sandbox.fixtures.autotask_demo import autotask_demo

DEMO = Path(generate.__file__).with_name("demo.json")
CENT = Decimal("0.01")


def d(value: object) -> Decimal:
    return Decimal(str(value))


@pytest.fixture(scope="module")
def demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def at_data(demo: dict) -> dict:
    return demo["autotask"]


def by_id(records: list[dict]) -> dict[int, dict]:
    return {r["id"]: r for r in records}


def test_demo_json_is_what_the_generators_produce(demo: dict):
    assert set(demo) == {"sandbox", "autotask", "xero"}
    assert demo["autotask"] == json.loads(json.dumps(autotask_demo()))
    assert DEMO.read_text(encoding="utf-8") == generate.render(generate.demo()), \
        "demo.json is stale: run python -m sandbox.fixtures.generate"


def test_generation_is_deterministic():
    assert json.dumps(autotask_demo()) == json.dumps(autotask_demo())


def test_sandbox_credentials_follow_the_conventions(demo: dict):
    assert demo["sandbox"]["autotask"] == {"username": "api@harbourit.example", "secret": "sandbox-autotask-secret",
                                           "integration_code": "AUTOXERO-SANDBOX"}
    assert demo["sandbox"]["xero"]["client_id"] == "SANDBOXCLIENTID0000000000000000"
    assert demo["sandbox"]["xero"]["tenant_id"] == "6d8b8a1e-3c2f-4a8e-9f1b-2a7c5d9e0b11"


def test_companies(at_data: dict):
    companies = at_data["Companies"]
    names = {c["companyName"] for c in companies}
    customers = [c for c in companies if c["companyType"] == 1]
    vendors = {c["companyName"] for c in companies if c["companyType"] == 7}
    assert len(customers) >= 25
    assert vendors >= {"Ingram Micro NZ", "Dicker Data NZ", "Exeed Ltd", "PB Tech Business"}
    assert {"Kauri Accounting Ltd", "Pohutukawa Dental", "Old Mate Plumbing Ltd"} <= names
    assert any("'" in n for n in names)
    assert any('"' in n and any(ord(ch) > 127 for ch in n) for n in names)
    assert any(n != n.rstrip() for n in names)
    assert 1 <= sum(c.get("isTaxExempt", False) for c in companies) <= 2
    for c in customers:
        assert c["phone"]
        assert c["address1"]
        assert c["currencyID"] == 1
        assert c["territoryID"] in (1, 2, 3)
        assert c["invoiceTemplateID"] in (101, 102)
    assert sum("fax" in c for c in companies) >= 5
    assert sum("taxID" in c for c in companies) >= 15


def test_contacts_and_billing_contact_udf(at_data: dict):
    contacts = at_data["Contacts"]
    per_company = Counter(c["companyID"] for c in contacts)
    assert set(per_company) == {c["id"] for c in at_data["Companies"]}
    assert all(1 <= n <= 4 for n in per_company.values())
    primaries = Counter(c["companyID"] for c in contacts if c["primaryContact"])
    assert all(primaries[company] == 1 for company in per_company)
    assert sum(c["billingContact"] for c in contacts) >= 5
    assert {c["isActive"] for c in contacts} == {0, 1}
    people = {(c["companyID"], f"{c['firstName']} {c['lastName']}") for c in contacts}
    named = [(co["id"], u["value"]) for co in at_data["Companies"] for u in co.get(UDF_KEY, [])
             if u["name"] == "Billing Contact"]
    assert len(named) >= 5
    dangling = [n for n in named if n not in people]
    assert len(dangling) == 1


def test_reference_data(at_data: dict):
    codes = at_data["BillingCodes"]
    assert {c.get("externalNumber") for c in codes} >= {"200", "210", "220", "230", None}
    assert {p.get("sku") for p in at_data["Products"]} >= {"HW-LAP-14", "HW-DOCK-USBC", "SW-M365-BP", "HW-FW-60F",
                                                          "HW-SW-24P"}
    assert {(c["id"], c["name"]) for c in at_data["TaxCategories"]} == {(1, "Standard"), (2, "Exempt")}
    assert {(r["id"], r["name"]) for r in at_data["TaxRegions"]} == {(1, "New Zealand"), (2, "Overseas")}
    gst = next(t for t in at_data["Taxes"] if (t["taxRegionID"], t["taxCategoryID"]) == (1, 1))
    assert gst["taxRate"] == 15.0
    assert {(t["id"], t["name"]) for t in at_data["InvoiceTemplates"]} == {(101, "Standard Invoice"),
                                                                          (102, "Managed Services Invoice")}
    assert {(t["id"], t["name"], t["paymentDueInDays"]) for t in at_data["PaymentTerms"]} == {
        (1, "Net 20", 20), (2, "Due on receipt", 0), (3, "Net 30", 30)}


def test_every_referenced_id_exists(at_data: dict):
    tables = {name: {r["id"] for r in records} for name, records in at_data.items() if name in ENTITIES}
    checked = 0
    for name, records in at_data.items():
        if name not in ENTITIES:
            continue
        for record in records:
            for field, value in record.items():
                f = ENTITIES[name].lookup(field) if field != UDF_KEY else None
                if f is None or f.reference not in tables or value is None:
                    continue
                assert value in tables[f.reference], f"{name} {record['id']}.{field} = {value}"
                checked += 1
    assert checked > 3000
    invoices = by_id(at_data["Invoices"])
    for item in at_data["BillingItems"]:
        assert item["companyID"] == invoices[item["invoiceID"]]["companyID"]


def test_invoices_shape(at_data: dict):
    invoices = at_data["Invoices"]
    assert len(invoices) == 150
    numbers = [i["invoiceNumber"] for i in invoices]
    assert numbers == [f"INV-{10001 + n}" for n in range(150)]
    start, end = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    assert all(start <= parse_datetime(i["invoiceDateTime"]) < end for i in invoices)
    assert sum(d(i["invoiceTotal"]) < 0 for i in invoices) >= 5
    assert sum(i["isVoided"] for i in invoices) == 3
    assert all(("voidedDate" in i) == i["isVoided"] for i in invoices)
    assert sum("webServiceDate" in i for i in invoices) == 5
    lines = Counter(item["invoiceID"] for item in at_data["BillingItems"])
    assert all(1 <= lines[i["id"]] <= 20 for i in invoices)
    assert max(lines.values()) >= 15


def test_billing_items_are_mixed(at_data: dict):
    items = at_data["BillingItems"]
    types = Counter(i["billingItemType"] for i in items)
    assert {1, 2, 8} <= set(types)                              # labour, expenses, recurring services
    assert not any("productID" in i for i in items)  # real BillingItems have none (BillingItemModel)
    labour_hours = {d(i["quantity"]) for i in items if i["billingItemType"] == 1}
    assert any(h != h.to_integral_value() for h in labour_hours)
    seven_decimals = [i for i in items if -d(i["rate"]).as_tuple().exponent == 7 or
                      -d(i["quantity"]).as_tuple().exponent == 7]
    assert 3 <= len(seven_decimals) <= len(items) // 10


def test_product_lines_bill_charges_and_services_name_their_service(at_data: dict):
    """The route from a line to its product, as in a live tenant (sandbox/fixtures/autotask_contracts.py)."""
    products = by_id(at_data["Products"])
    charges = {(entity, c["id"]): c for entity in ("TicketCharges", "ContractCharges", "ProjectCharges")
               for c in at_data[entity]}
    fields = {"ticketChargeID": "TicketCharges", "contractChargeID": "ContractCharges",
              "projectChargeID": "ProjectCharges"}
    routed = Counter()
    for item in at_data["BillingItems"]:
        for field, entity in fields.items():
            if field in item:
                charge = charges[(entity, item[field])]
                assert charge["productID"] in products
                routed[entity] += 1
    assert all(routed[entity] >= 5 for entity in fields.values()), routed
    services = by_id(at_data["Services"])
    recurring = [i for i in at_data["BillingItems"] if i["billingItemType"] == 8]
    assert recurring and all(i["serviceID"] in services for i in recurring)


def test_amounts_are_billed_as_autotask_bills_them(at_data: dict):
    """4-decimal amounts, extendedPrice that is not quantity x rate, block hours at totalAmount 0 (the recorded
    item in contractika-org/contractika contractika/data/at/billingitems.php)."""
    items = at_data["BillingItems"]
    prepaid = [i for i in items if d(i["totalAmount"]) == 0 and d(i["extendedPrice"]) != 0]
    assert len(prepaid) >= 10 and all("contractID" in i for i in prepaid)
    assert any("contractBlockID" in i for i in prepaid)
    assert any(d(i["extendedPrice"]) != d(i["quantity"]) * d(i["rate"]) for i in items)
    assert any(d(i["extendedPrice"]) != d(i["extendedPrice"]).quantize(CENT) for i in items)
    assert {12, 13} <= {i["billingItemType"] for i in items}  # a block bought, a retainer topped up
    assert any(d(i["invoiceTotal"]) != d(i["invoiceTotal"]).quantize(CENT) for i in at_data["Invoices"])


def test_invoices_add_up(at_data: dict):
    """invoiceTotal = Σ totalAmount and totalTaxValue = Σ taxDollars, to Autotask's 4 places."""
    companies = by_id(at_data["Companies"])
    invoices = by_id(at_data["Invoices"])
    totals: dict[int, Decimal] = Counter()
    taxes: dict[int, Decimal] = Counter()
    for item in at_data["BillingItems"]:
        ext, tax, total = d(item["extendedPrice"]), d(item["taxDollars"]), d(item["totalAmount"])
        assert ext == ext.quantize(Decimal("0.0001")), item["id"]
        billed = total - tax
        assert billed in (ext, Decimal(0)), item["id"]
        company = companies[item["companyID"]]
        taxable = (item["taxCategoryID"] == 1 and not company.get("isTaxExempt")
                   and company.get("taxRegionID") == 1)
        expected_tax = (billed * Decimal("0.15")).quantize(CENT, rounding=ROUND_HALF_UP) if taxable else Decimal(0)
        assert tax == expected_tax, item["id"]
        totals[item["invoiceID"]] += total
        taxes[item["invoiceID"]] += tax
    for invoice_id, invoice in invoices.items():
        assert d(invoice["invoiceTotal"]) == totals[invoice_id], invoice["invoiceNumber"]
        assert d(invoice["totalTaxValue"]) == taxes[invoice_id], invoice["invoiceNumber"]
    assert any(d(i["totalTaxValue"]) == 0 and d(i["invoiceTotal"]) > 0 for i in invoices.values())


def test_purchase_orders(at_data: dict):
    companies = by_id(at_data["Companies"])
    orders = at_data["PurchaseOrders"]
    assert len(orders) >= 12
    assert all(companies[o["vendorID"]]["companyType"] == 7 for o in orders)
    assert {o["status"] for o in orders} >= {1, 2, 3, 4, 5}
    assert sum("freight" in o for o in orders) >= 3
    items = Counter(i["orderID"] for i in at_data["PurchaseOrderItems"])
    assert all(1 <= items[o["id"]] <= 6 for o in orders)
    assert all(("cancelDateTime" in o) == (o["status"] == 5) for o in orders)
    assert all(("submitDateTime" in o) == (o["status"] >= 2) for o in orders)


def test_demo_loads_and_serves(demo: dict):
    with running_autotask(demo) as at, at.client() as c:
        count = c.post("/Invoices/query/count", json={"filter": [{"op": "gte", "field": "id", "value": 0}]})
        assert count.json() == {"queryCount": 150}
        fresh = c.post("/Invoices/query", json={"filter": [{"op": "notExist", "field": "webServiceDate"},
                                                           {"op": "eq", "field": "isVoided", "value": False}]})
        assert len(fresh.json()["items"]) == 150 - 5 - 2          # two voids were never exported
        kauri = c.post("/Companies/query", json={"filter": [
            {"op": "eq", "field": "companyName", "value": "kauri accounting ltd"}]}).json()["items"]
        assert len(kauri) == 1
        items = c.post("/BillingItems/query", json={"filter": [{"op": "gte", "field": "id", "value": 0}]}).json()
        assert items["pageDetails"]["nextPageUrl"]
