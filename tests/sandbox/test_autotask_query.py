"""Query filters (docs/autotask.md §4): every operator, nesting, UDFs, limits and the errors Autotask gives."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.autotask.testing import RunningAutotask, running_autotask, small_tenant


@pytest.fixture(scope="module")
def at():
    with running_autotask(small_tenant()) as running:
        yield running


@pytest.fixture(scope="module")
def client(at: RunningAutotask):
    with at.client() as c:
        yield c


def ids(client: httpx.Client, entity: str, *filters: dict) -> list[int]:
    r = client.post(f"/{entity}/query", json={"filter": list(filters)})
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


def error(client: httpx.Client, entity: str, body: object) -> str:
    r = client.post(f"/{entity}/query", json=body)
    assert r.status_code == 500, r.text
    errors = r.json()["errors"]
    assert errors
    return " ".join(errors)


def f(op: str, field: str, value: object = None, **kw: object) -> dict:
    node = {"op": op, "field": field, **kw}
    if value is not None:
        node["value"] = value
    return node


@pytest.mark.parametrize(("node", "expected"), [
    (f("eq", "companyType", 7), [1005]),
    (f("noteq", "companyType", 1), [1005, 1006]),
    (f("gt", "id", 1004), [1005, 1006]),
    (f("gte", "id", 1004), [1004, 1005, 1006]),
    (f("lt", "id", 1002), [0, 1001]),          # company 0, the MSP's own, is in every tenant
    (f("lte", "id", 1002), [0, 1001, 1002]),
    (f("beginsWith", "companyName", "kauri"), [1001]),
    (f("endsWith", "companyName", "dental"), [1002]),
    (f("contains", "companyName", "LTD"), [0, 1001, 1006]),
    (f("exist", "territoryID"), [1001, 1002, 1003, 1004, 1006]),
    (f("notExist", "territoryID"), [0, 1005]),
    (f("in", "id", [1001, 1003, 9999]), [1001, 1003]),
    (f("notIn", "companyType", [1, 3]), [1005]),
    (f("eq", "isActive", False), [1006]),
    (f("gte", "lastTrackedModifiedDateTime", "2026-10-01"), [1006]),
    (f("lt", "lastTrackedModifiedDateTime", "2026-10-15T09:00:00+00:00"), [1001, 1002, 1003, 1004, 1005, 1006]),
    (f("lt", "lastTrackedModifiedDateTime", "2026-10-15T08:30:00Z"), [1001, 1002, 1003, 1004, 1005]),
])
def test_each_operator(client: httpx.Client, node: dict, expected: list[int]):
    assert ids(client, "Companies", node) == expected


def test_string_comparisons_are_case_insensitive_and_ignore_trailing_spaces(client: httpx.Client):
    assert ids(client, "Companies", f("eq", "companyName", "POHUTUKAWA DENTAL")) == [1002]
    # SQL Server `=` pads: the trailing space in "Tui Legal Partners " does not stop an exact match
    assert ids(client, "Companies", f("eq", "companyName", "Tui Legal Partners")) == [1003]
    # ... but LIKE-style operators see it
    assert ids(client, "Companies", f("endsWith", "companyName", "Partners")) == []
    assert ids(client, "Companies", f("eq", "companyName", 'ngā tāngata "whānau" trust')) == [1004]


def test_comparisons_with_null_never_match(client: httpx.Client):
    # Ingram has no territory: noteq does not return it (SQL NULL semantics)
    assert 1005 not in ids(client, "Companies", f("noteq", "territoryID", 1))
    assert ids(client, "Companies", f("noteq", "territoryID", 1)) == [1003]


def test_top_level_filters_are_anded_and_groups_nest(client: httpx.Client):
    assert ids(client, "Companies", f("eq", "companyType", 1), f("eq", "territoryID", 1)) == [1001, 1002, 1004]
    nested = {"op": "or", "items": [
        f("eq", "companyType", 7),
        {"op": "and", "items": [f("eq", "territoryID", 1), f("contains", "companyName", "dental")]},
    ]}
    assert ids(client, "Companies", nested) == [1002, 1005]
    double = {"op": "and", "items": [
        {"op": "or", "items": [f("eq", "id", 1001), f("eq", "id", 1003)]},
        {"op": "or", "items": [f("eq", "territoryID", 2), f("eq", "territoryID", 3)]},
    ]}
    assert ids(client, "Companies", double) == [1003]


def test_empty_group_is_an_error(client: httpx.Client):
    assert "items" in error(client, "Companies", {"filter": [{"op": "or", "items": []}]})


def test_udf_filter(client: httpx.Client):
    assert ids(client, "Companies", f("eq", "Billing Contact", "mere tane", udf=True)) == [1001]
    assert ids(client, "Companies", f("exist", "Industry", udf=True)) == [1001, 1002]
    # without udf: true the name is not a field of the entity
    assert "Billing Contact" in error(client, "Companies", {"filter": [f("eq", "Billing Contact", "x")]})


def test_only_one_udf_filter_per_query(client: httpx.Client):
    body = {"filter": [f("exist", "Industry", udf=True), f("eq", "Billing Contact", "Mere Tane", udf=True)]}
    assert "one" in error(client, "Companies", body).lower()


def test_unknown_udf_is_an_error(client: httpx.Client):
    assert "Favourite Colour" in error(client, "Companies", {"filter": [f("exist", "Favourite Colour", udf=True)]})


@pytest.mark.parametrize("body", [{}, {"Filter": None}, {"MaxRecords": 10}])
def test_a_query_needs_a_filter(client: httpx.Client, body: dict):
    """Servosity/msp-skills#257 (live tenant): a body without `filter` is a 500."""
    assert "filters" in error(client, "Companies", body).lower()


def test_an_empty_filter_list_matches_nothing(client: httpx.Client):
    """Servosity/msp-skills#257 (live tenant): `{"filter": []}` answers 200 with no rows."""
    assert ids(client, "Companies") == []
    assert client.post("/Companies/query/count", json={"filter": []}).json() == {"queryCount": 0}


def test_property_names_and_operators_are_not_case_sensitive(client: httpx.Client):
    r = client.post("/Companies/query", json={"Filter": [{"Op": "EQ", "Field": "COMPANYTYPE", "Value": 7}]})
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["items"]] == [1005]


def test_booleans_must_be_json_booleans(client: httpx.Client):
    for bad in ("true", 1, None):
        body = {"filter": [{"op": "eq", "field": "isActive", "value": bad}]}
        assert "true or false" in error(client, "Companies", body)
    assert ids(client, "Companies", f("eq", "isActive", True)) == [0, 1001, 1002, 1003, 1004, 1005]


def test_contacts_is_active_is_an_integer_field(client: httpx.Client):
    assert ids(client, "Contacts", f("eq", "isActive", 1)) == [2001, 2002]
    assert ids(client, "Contacts", f("eq", "billingContact", True), f("eq", "isActive", 1)) == [2001]


def test_or_conditions_are_limited_to_500(client: httpx.Client):
    def ors(n: int) -> dict:
        return {"filter": [{"op": "or", "items": [f("eq", "id", i) for i in range(n)]}]}

    assert client.post("/Companies/query", json=ors(500)).status_code == 200
    message = error(client, "Companies", ors(501))
    assert message == "Invalid query syntax. Queries are limited to 500 or fewer 'OR' conditions."
    # an `in` list counts as that many OR conditions
    assert client.post("/Companies/query", json={"filter": [f("in", "id", list(range(500)))]}).status_code == 200
    assert "500 or fewer" in error(client, "Companies", {"filter": [f("in", "id", list(range(501)))]})


@pytest.mark.parametrize(("entity", "field"), [
    ("Invoices", "dueDate"), ("Invoices", "taxRegionID"),
    ("BillingItems", "lineItemFullDescription"), ("BillingItems", "lineItemGroupDescription"),
])
def test_not_queryable_fields_give_an_error(client: httpx.Client, entity: str, field: str):
    message = error(client, entity, {"filter": [f("exist", field)]})
    assert field in message
    assert "not queryable" in message


def test_not_queryable_fields_are_still_returned(client: httpx.Client):
    r = client.post("/Invoices/query", json={"filter": [f("eq", "id", 3001)]})
    assert r.json()["items"][0]["dueDate"] == "2026-08-21T00:00:00Z"


def test_unknown_field_is_an_error_but_an_unknown_operator_is_dropped(client: httpx.Client):
    """WYRE-AI/autotask-mcp#282 (live): an unknown field is a 500; #193: an unknown operator (`ne`) is discarded
    and the rows come back unfiltered."""
    assert "nosuchfield" in error(client, "Companies", {"filter": [f("eq", "nosuchfield", 1)]})
    everything = ids(client, "Companies", f("gte", "id", 0))
    assert ids(client, "Companies", f("ne", "companyType", 1)) == everything
    assert ids(client, "Companies", f("between", "id", 1), f("eq", "companyType", 7)) == [1005]
    assert ids(client, "Companies", {"op": "or", "items": [f("ne", "id", 1), f("eq", "id", 1001)]}) == [1001]


def test_true_and_false_are_accepted_on_integer_flags(client: httpx.Client):
    """KerkhoffTechnologies/django-autotask (djautotask/sync.py) filters Contacts with `isActive eq "true"`."""
    assert ids(client, "Contacts", f("eq", "isActive", "true")) == ids(client, "Contacts", f("eq", "isActive", 1))
    assert ids(client, "Contacts", f("eq", "isActive", "FALSE")) == ids(client, "Contacts", f("eq", "isActive", 0))


def test_wrong_value_types_are_errors_not_crashes(client: httpx.Client):
    assert error(client, "Companies", {"filter": [f("eq", "id", "abc")]})
    assert error(client, "Companies", {"filter": [f("gte", "lastTrackedModifiedDateTime", "yesterday")]})
    assert error(client, "Companies", {"filter": [f("in", "id", 5)]})
    assert error(client, "Companies", {"filter": [f("contains", "id", "1")]})
    assert error(client, "Companies", {"filter": [f("gt", "isActive", True)]})
    assert error(client, "Companies", {"filter": "id > 5"})
    assert error(client, "Companies", [1, 2])


def test_malformed_json_body(client: httpx.Client):
    r = client.post("/Companies/query", content=b'{"filter": [', headers={"Content-Type": "application/json"})
    assert r.status_code == 500
    assert r.json()["errors"]


def test_unknown_entity_is_a_404(client: httpx.Client):
    r = client.post("/Widgets/query", json={"filter": [f("gte", "id", 0)]})
    assert r.status_code == 404
    assert "Widgets" in r.json()["Message"]


def test_get_query_with_search_parameter(client: httpx.Client):
    search = json.dumps({"filter": [f("eq", "companyType", 7)]})
    r = client.get("/Companies/query", params={"search": search})
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["items"]] == [1005]
    assert client.get("/Companies/query").status_code == 500
    assert client.get("/Companies/query", params={"search": "{not json"}).status_code == 500


def test_count_post_and_get(client: httpx.Client):
    body = {"filter": [f("eq", "companyType", 1)]}
    assert client.post("/Companies/query/count", json=body).json() == {"queryCount": 5}
    assert client.get("/Companies/query/count", params={"search": json.dumps(body)}).json() == {"queryCount": 5}
    assert client.post("/Companies/query/count", json={}).status_code == 500


def test_decimal_and_negative_comparisons(client: httpx.Client):
    assert ids(client, "Invoices", f("lt", "invoiceTotal", 0)) == [3002]
    assert ids(client, "Invoices", f("eq", "invoiceTotal", "189.75")) == [3001]
    assert ids(client, "BillingItems", f("eq", "taxDollars", -22.5)) == [4002]


def test_recommended_new_invoice_poll(client: httpx.Client):
    """docs/autotask.md §10: webServiceDate notExist AND isVoided eq false."""
    assert ids(client, "Invoices", f("notExist", "webServiceDate"), f("eq", "isVoided", False)) == [3001]


def test_get_by_id_and_missing_id(client: httpx.Client):
    r = client.get("/Companies/1001")
    assert r.status_code == 200
    item = r.json()["item"]
    assert item["companyName"] == "Kauri Accounting Ltd"
    assert {"name": "Billing Contact", "value": "Mere Tane"} in item["userDefinedFields"]
    missing = client.get("/Companies/424242")
    assert missing.status_code == 200
    assert missing.json() == {"item": None}


scalars = (st.none() | st.booleans() | st.integers(-10**20, 10**20)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
filter_nodes = st.fixed_dictionaries(
    {"op": st.sampled_from(["eq", "noteq", "gt", "in", "contains", "exist", "or", "and", "bogus", ""])},
    optional={"field": st.sampled_from(["id", "companyName", "isActive", "lastTrackedModifiedDateTime",
                                        "Industry", "nope", ""]),
              "value": json_values, "udf": st.booleans(), "items": st.lists(json_values, max_size=3)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.fixed_dictionaries({"filter": st.lists(filter_nodes, max_size=3)},
                                                         optional={"MaxRecords": json_values,
                                                                   "IncludeFields": json_values})))
def test_no_query_body_crashes_the_simulator(client: httpx.Client, body: object):
    r = client.post("/Companies/query", json=body)
    assert r.status_code in (200, 500)
    data = r.json()
    if r.status_code == 500:
        assert data["errors"]
        assert "unexpected" not in data["errors"][0]
    else:
        assert set(data) == {"items", "pageDetails"}


# --- shapes a live tenant answers with, each from a recorded or generated public source (sandbox README) ----

def field_info(client: httpx.Client, entity: str) -> dict[str, dict]:
    return {f["name"]: f for f in client.get(f"/{entity}/entityInformation/fields").json()["fields"]}


def test_reference_entity_types_are_singular(client: httpx.Client):
    """apigrate/autotask-restapi README, a recorded fieldInfo answer: "Resource", "Company", "Contact"."""
    assert field_info(client, "Companies")["ownerResourceID"]["referenceEntityType"] == "Resource"
    assert field_info(client, "Contacts")["companyID"]["referenceEntityType"] == "Company"
    assert field_info(client, "Invoices")["paymentTerm"]["referenceEntityType"] == "PaymentTerm"
    assert field_info(client, "Companies")["phone"]["referenceEntityType"] == ""


def test_invoice_and_billing_item_fields_as_a_live_tenant_has_them(client: httpx.Client):
    """tphakala/go-autotask entities/invoices.go and billing_items.go (generated from a live tenant)."""
    invoice = field_info(client, "Invoices")
    assert invoice["invoiceStatus"]["dataType"] == "integer"
    assert invoice["invoiceTaxMethodExternalCode"]["dataType"] == "string"
    assert field_info(client, "BillingItems")["nonBillable"]["dataType"] == "integer"
    assert "invoiceStatus" in client.get("/Invoices/3001").json()["item"]


def test_the_root_company_is_there(client: httpx.Client):
    assert client.get("/Companies/0").json()["item"]["id"] == 0


def test_include_fields_may_name_a_udf(client: httpx.Client):
    r = client.post("/Companies/query", json={"filter": [{"op": "eq", "field": "id", "value": 1001}],
                                              "IncludeFields": ["companyName", "Billing Contact"]})
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["userDefinedFields"] == [{"name": "Billing Contact", "value": "Mere Tane"}]
    assert set(item) == {"companyName", "userDefinedFields"} | ({"id"} if "id" in item else set())


def test_an_unhandled_fault_is_not_an_autotask_refusal(at: RunningAutotask, client: httpx.Client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated server bug")

    monkeypatch.setattr(at.sim, "api_get", boom)
    r = client.get("/Companies/1001")
    assert r.status_code == 500 and r.json() == {"Message": "An error has occurred."}
