"""Writes (docs/autotask.md §3, §9, §10): PATCH vs PUT, read-only fields, child entities via the parent URL only,
entity rules, and entityInformation as the source of those rules."""

from __future__ import annotations

import httpx
import pytest

from sandbox.autotask.testing import RunningAutotask, running_autotask, small_tenant


@pytest.fixture(scope="module")
def at():
    with running_autotask(small_tenant()) as running:
        yield running


@pytest.fixture
def client(at: RunningAutotask):
    at.sim.load(small_tenant())          # every test starts from the same tenant
    with at.client() as c:
        yield c


def get(client: httpx.Client, entity: str, item_id: int) -> dict:
    return client.get(f"/{entity}/{item_id}").json()["item"]


def errors(r: httpx.Response) -> str:
    assert r.status_code == 500, r.text
    return " ".join(r.json()["errors"])


# --- PATCH and PUT ---

def test_patch_changes_only_the_sent_fields(client: httpx.Client):
    before = get(client, "Companies", 1001)
    r = client.patch("/Companies", json={"id": 1001, "phone": "09 123 4567"})
    assert r.json() == {"itemId": 1001}
    after = get(client, "Companies", 1001)
    assert after["phone"] == "09 123 4567"
    assert after["city"] == before["city"] == "Auckland"
    assert after["territoryID"] == 1
    assert after["userDefinedFields"] == before["userDefinedFields"]


def test_put_nulls_omitted_writable_fields(client: httpx.Client):
    r = client.put("/Companies", json={"id": 1001, "companyName": "Kauri Accounting Ltd", "companyType": 1,
                                       "phone": "09 555 0100", "ownerResourceID": 29682885})
    assert r.status_code == 200, r.text
    after = get(client, "Companies", 1001)
    assert after["city"] is None
    assert after["territoryID"] is None
    assert after["isActive"] is None
    assert after["createDate"] == "2024-01-10T00:00:00Z"      # read-only: untouched


def test_put_on_an_invoice_nulls_its_other_writable_fields(client: httpx.Client):
    """Pitfall 6: PUT {id, paidDate} wipes invoiceNumber and webServiceDate."""
    assert client.put("/Invoices", json={"id": 3002, "paidDate": "2026-10-01"}).status_code == 200
    invoice = get(client, "Invoices", 3002)
    assert invoice["paidDate"] == "2026-10-01T00:00:00Z"
    assert invoice["invoiceNumber"] is None
    assert invoice["webServiceDate"] is None
    assert invoice["invoiceTotal"] == -172.5


def test_put_without_a_required_field_fails(client: httpx.Client):
    r = client.put("/Companies", json={"id": 1001, "companyName": "Kauri"})
    assert "required" in errors(r)
    assert get(client, "Companies", 1001)["companyName"] == "Kauri Accounting Ltd"


def test_update_needs_an_existing_id(client: httpx.Client):
    assert "id" in errors(client.patch("/Companies", json={"phone": "1"}))
    assert "424242" in errors(client.patch("/Companies", json={"id": 424242, "phone": "1"}))
    assert errors(client.patch("/Companies", json=[{"id": 1001}]))


# --- invoices: only invoiceNumber, paidDate, webServiceDate are writable ---

def test_invoice_write_back_fields(client: httpx.Client):
    for body in ({"id": 3001, "webServiceDate": "2026-11-01T10:00:00Z"}, {"id": 3001, "paidDate": "2026-11-15"},
                 {"id": 3001, "invoiceNumber": "XERO-0042"}):
        assert client.patch("/Invoices", json=body).json() == {"itemId": 3001}
    invoice = get(client, "Invoices", 3001)
    assert invoice["webServiceDate"] == "2026-11-01T10:00:00Z"
    assert invoice["paidDate"] == "2026-11-15T00:00:00Z"
    assert invoice["invoiceNumber"] == "XERO-0042"


@pytest.mark.parametrize("written", ["2026-11-15T13:45:10+13:00", "2026-11-15T00:00:00+13:00",
                                     "2026-11-15T20:00:00-05:00", "2026-11-15", "2026-11-15T00:00:00"])
def test_paid_date_is_the_date_as_written(client: httpx.Client, written: str):
    """InvoicesEntity.htm: paidDate "ignores time stamp information and stores the date only"; REST_API_Calls.htm:
    date-only fields are not converted between zones, the time is set to midnight and the date accepted."""
    client.patch("/Invoices", json={"id": 3001, "paidDate": written})
    assert get(client, "Invoices", 3001)["paidDate"] == "2026-11-15T00:00:00Z"


def test_older_tenants_answer_datetimes_without_a_zone(at, client: httpx.Client):
    """apigrate/autotask-restapi README (recorded): "lastTrackedModifiedDateTime": "2016-03-30T13:10:35.563"."""
    with at.control() as control:
        assert control.post("/wire", json={"zone_less_datetimes": True}).json() == {"zone_less_datetimes": True}
    try:
        invoice = get(client, "Invoices", 3001)
        assert invoice["invoiceDateTime"] and not invoice["invoiceDateTime"].endswith("Z")
        assert invoice["invoiceNumber"]  # other fields untouched
    finally:
        at.sim.zone_less_datetimes = False


def test_web_service_date_can_be_cleared_with_null(client: httpx.Client):
    assert client.patch("/Invoices", json={"id": 3002, "webServiceDate": None}).status_code == 200
    assert get(client, "Invoices", 3002)["webServiceDate"] is None


@pytest.mark.parametrize(("field", "value"), [
    ("comments", "changed"), ("invoiceTotal", 1.0), ("isVoided", True), ("dueDate", "2027-01-01"),
    ("paymentTerm", 3), ("companyID", 1002), ("orderNumber", "PO-1"),
])
def test_read_only_invoice_fields_are_rejected(client: httpx.Client, field: str, value: object):
    r = client.patch("/Invoices", json={"id": 3001, field: value})
    message = errors(r)
    assert field in message
    assert "read-only" in message
    assert get(client, "Invoices", 3001)[field] != value


def test_sending_a_read_only_field_unchanged_is_accepted(client: httpx.Client):
    invoice = get(client, "Invoices", 3001)
    r = client.patch("/Invoices", json={"id": 3001, "invoiceTotal": invoice["invoiceTotal"],
                                        "webServiceDate": "2026-11-02T00:00:00Z"})
    assert r.status_code == 200


def test_only_web_service_date_is_writable_on_billing_items(client: httpx.Client):
    assert client.patch("/BillingItems", json={"id": 4001, "webServiceDate": "2026-11-01"}).status_code == 200
    assert "read-only" in errors(client.patch("/BillingItems", json={"id": 4001, "rate": 1}))


def test_invoices_cannot_be_created_or_deleted(client: httpx.Client):
    assert client.post("/Invoices", json={"companyID": 1001}).status_code == 405
    assert client.delete("/Invoices/3001").status_code == 405
    assert client.post("/BillingCodes", json={"name": "x"}).status_code == 405
    assert client.patch("/BillingCodes", json={"id": 11, "name": "x"}).status_code == 405


def test_field_metadata_is_the_rule_the_simulator_enforces(client: httpx.Client):
    fields = {f["name"]: f for f in client.get("/Invoices/entityInformation/fields").json()["fields"]}
    writable = {name for name, f in fields.items() if not f["isReadOnly"]}
    assert writable == {"invoiceNumber", "paidDate", "webServiceDate"}
    assert not fields["dueDate"]["isQueryable"]
    assert not fields["taxRegionID"]["isQueryable"]
    for name in fields:
        if name not in writable and name != "id":
            assert client.patch("/Invoices", json={"id": 3001, name: "2001-01-01"}).status_code == 500, name


def test_entity_information(client: httpx.Client):
    assert client.get("/Invoices/entityInformation").json()["info"] == {
        "name": "Invoices", "canCreate": False, "canDelete": False, "canQuery": True, "canUpdate": True,
        "userAccessForCreate": "None", "userAccessForDelete": "None", "userAccessForQuery": "All",
        "userAccessForUpdate": "All", "hasUserDefinedFields": False, "supportsWebhookCallouts": False}
    companies = client.get("/Companies/entityInformation").json()["info"]
    assert companies["hasUserDefinedFields"]
    assert companies["supportsWebhookCallouts"]


def test_field_metadata_shape_and_picklists(client: httpx.Client):
    fields = {f["name"]: f for f in client.get("/Companies/entityInformation/fields").json()["fields"]}
    company_type = fields["companyType"]
    assert company_type["isPickList"]
    labels = {p["label"]: p["value"] for p in company_type["picklistValues"]}
    assert labels["Customer"] == "1"
    assert labels["Vendor"] == "7"
    assert set(company_type["picklistValues"][0]) >= {"value", "label", "isActive", "isDefaultValue"}
    assert set(fields["companyName"]) >= {"name", "dataType", "isReadOnly", "isQueryable", "isRequired",
                                          "isPickList", "picklistValues", "isSupportedWebhookField", "length"}
    assert fields["isActive"]["dataType"] == "boolean"
    contact_fields = {f["name"]: f for f in client.get("/Contacts/entityInformation/fields").json()["fields"]}
    assert contact_fields["isActive"]["dataType"] == "integer"
    po_status = {f["name"]: f for f in client.get("/PurchaseOrders/entityInformation/fields").json()["fields"]}
    assert {p["label"] for p in po_status["status"]["picklistValues"]} >= {"New", "Submitted", "Received Full"}


def test_user_defined_field_metadata(client: httpx.Client):
    udfs = client.get("/Companies/entityInformation/userDefinedFields").json()["fields"]
    assert [u["name"] for u in udfs] == ["Billing Contact", "Industry"]
    assert client.get("/Invoices/entityInformation/userDefinedFields").json() == {"fields": []}


# --- type checks ---

@pytest.mark.parametrize(("body", "fragment"), [
    ({"id": 1001, "territoryID": 99}, "picklist"),
    ({"id": 1001, "companyType": "Vendor"}, "companyType"),
    ({"id": 1001, "isActive": "yes"}, "isActive"),
    ({"id": 1001, "phone": "0" * 26}, "length"),
    ({"id": 1001, "colour": "red"}, "colour"),
    ({"id": 1001, "userDefinedFields": [{"name": "Nope", "value": "x"}]}, "Nope"),
])
def test_wrong_writes_get_autotask_errors(client: httpx.Client, body: dict, fragment: str):
    assert fragment in errors(client.patch("/Companies", json=body))


def test_malformed_json_write(client: httpx.Client):
    r = client.patch("/Companies", content=b"{id: 1001", headers={"Content-Type": "application/json"})
    assert r.status_code == 500


def test_udf_write_and_modified_timestamp(at: RunningAutotask, client: httpx.Client):
    at.sim.clock.set(at.sim.clock.now().replace(year=2026, month=11, day=1, hour=9, minute=0, second=0,
                                                microsecond=0))
    r = client.patch("/Companies", json={"id": 1002, "userDefinedFields": [{"name": "Billing Contact",
                                                                             "value": "Aroha Ngata"}]})
    assert r.status_code == 200
    company = get(client, "Companies", 1002)
    assert {"name": "Billing Contact", "value": "Aroha Ngata"} in company["userDefinedFields"]
    assert company["lastTrackedModifiedDateTime"].startswith("2026-11-01T09:00:")


# --- child entities: only through the parent URL ---

def test_contacts_are_created_only_through_the_company(client: httpx.Client):
    body = {"firstName": "Hemi", "lastName": "Parata", "isActive": 1, "billingContact": True}
    assert client.post("/Contacts", json={**body, "companyID": 1001}).status_code == 405
    assert client.patch("/Contacts", json={"id": 2001, "title": "x"}).status_code == 405
    r = client.post("/Companies/1002/Contacts", json=body)
    assert r.status_code == 200
    contact = get(client, "Contacts", r.json()["itemId"])
    assert contact["companyID"] == 1002
    assert contact["lastModifiedDate"] is not None
    assert client.get(f"/Companies/1002/Contacts/{contact['id']}").json()["item"]["id"] == contact["id"]


def test_child_updates_go_through_the_right_parent(client: httpx.Client):
    assert client.patch("/Companies/1001/Contacts", json={"id": 2001, "title": "Accounts"}).status_code == 200
    assert get(client, "Contacts", 2001)["title"] == "Accounts"
    wrong_parent = client.patch("/Companies/1002/Contacts", json={"id": 2001, "title": "x"})
    assert wrong_parent.status_code == 500
    moved = client.patch("/Companies/1001/Contacts", json={"id": 2001, "companyID": 1002})
    assert moved.status_code == 500
    assert client.post("/Companies/999/Contacts", json={"firstName": "a", "lastName": "b",
                                                        "isActive": 1}).status_code == 500
    assert client.post("/Invoices/3001/Contacts", json={}).status_code == 404


def test_contact_is_active_is_an_integer(client: httpx.Client):
    r = client.patch("/Companies/1001/Contacts", json={"id": 2001, "isActive": True})
    assert "isActive" in errors(r)
    assert "isActive" in errors(client.patch("/Companies/1001/Contacts", json={"id": 2001, "isActive": 2}))
    assert client.patch("/Companies/1001/Contacts", json={"id": 2001, "isActive": 0}).status_code == 200


def test_contact_create_needs_the_required_fields(client: httpx.Client):
    r = client.post("/Companies/1001/Contacts", json={"firstName": "Solo"})
    message = errors(r)
    assert "lastName" in message
    assert "isActive" in message


def test_contacts_are_deleted_through_the_company(client: httpx.Client):
    assert client.delete("/Contacts/2002").status_code == 405
    assert client.delete("/Companies/1001/Contacts/2002").json() == {"itemId": 2002}
    assert get(client, "Contacts", 2002) is None


def test_purchase_order_items_only_via_the_order_and_only_while_new(client: httpx.Client):
    item = {"productID": 21, "quantity": 3, "unitCost": 970.0}
    assert client.post("/PurchaseOrderItems", json={**item, "orderID": 5001}).status_code == 405
    ok = client.post("/PurchaseOrders/5001/Items", json=item)
    assert ok.status_code == 200
    assert get(client, "PurchaseOrderItems", ok.json()["itemId"])["orderID"] == 5001
    received = client.post("/PurchaseOrders/5002/Items", json=item)
    assert "New" in errors(received)
    assert client.patch("/PurchaseOrders/5001/Items", json={"id": 6001, "quantity": 5}).status_code == 200
    assert "Received" in errors(client.patch("/PurchaseOrders/5002/Items", json={"id": 6002, "quantity": 5}))


def test_purchase_orders_create_for_vendors_only(client: httpx.Client):
    r = client.post("/PurchaseOrders", json={"vendorID": 1005, "status": 1})
    assert r.status_code == 200
    po = get(client, "PurchaseOrders", r.json()["itemId"])
    assert po["createDateTime"] is not None
    assert po["submitDateTime"] is None
    assert "Vendor" in errors(client.post("/PurchaseOrders", json={"vendorID": 1001, "status": 1}))
    assert client.patch("/PurchaseOrders", json={"id": po["id"], "status": 2}).status_code == 200
    assert get(client, "PurchaseOrders", po["id"])["submitDateTime"] is not None
    assert "vendorID" in errors(client.patch("/PurchaseOrders", json={"id": po["id"], "vendorID": 1004}))


def test_company_create(client: httpx.Client):
    missing = client.post("/Companies", json={"companyName": "New Co"})
    assert "companyType" in errors(missing)
    r = client.post("/Companies", json={"id": 0, "companyName": "Rangitoto Ferries Ltd", "companyType": 1,
                                        "phone": "09 300 0000", "ownerResourceID": 29682885, "isActive": True,
                                        "userDefinedFields": [{"name": "Industry", "value": "Transport"}]})
    assert r.status_code == 200
    new_id = r.json()["itemId"]
    assert new_id > 1006
    company = get(client, "Companies", new_id)
    assert company["createDate"] is not None
    assert {"name": "Industry", "value": "Transport"} in company["userDefinedFields"]


def test_unknown_route_and_method(client: httpx.Client):
    assert client.get("/Companies").status_code == 405
    r = client.get("/Widgets/1")
    assert r.status_code == 404
    assert client.get("/Companies/entityInformation/nothing").status_code == 404
