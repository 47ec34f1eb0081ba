"""Paging (docs/autotask.md §5): 500 a page, nextPageUrl followed by re-POSTing the body, MaxRecords, IncludeFields."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from sandbox.autotask.testing import RunningAutotask, running_autotask

TOTAL = 1203
EVERYTHING = {"filter": [{"op": "gte", "field": "id", "value": 0}]}


def tenant() -> dict:
    items = [{"id": 880000 + i, "invoiceID": 24000 + i // 10, "companyID": 1, "itemName": f"line {i}",
              "quantity": 1, "rate": i, "extendedPrice": i, "taxDollars": 0, "totalAmount": i}
             for i in range(1, TOTAL + 1)]
    random.Random(7).shuffle(items)          # stored out of order: results must still come sorted by id
    return {"BillingItems": items}


@pytest.fixture(scope="module")
def at():
    with running_autotask(tenant()) as running:
        yield running


@pytest.fixture(scope="module")
def client(at: RunningAutotask):
    with at.client() as c:
        yield c


def test_pages_follow_next_page_url_by_reposting_the_body(client: httpx.Client):
    r = client.post("/BillingItems/query", json=EVERYTHING)
    assert r.status_code == 200
    page = r.json()
    assert page["pageDetails"]["count"] == 500
    assert page["pageDetails"]["requestCount"] == 500
    assert page["pageDetails"]["prevPageUrl"] is None
    seen = [i["id"] for i in page["items"]]
    pages = 1
    while page["pageDetails"]["nextPageUrl"]:
        r = client.post(page["pageDetails"]["nextPageUrl"], json=EVERYTHING)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
    assert pages == 3
    assert page["pageDetails"]["count"] == TOTAL - 1000
    assert seen == sorted(seen)
    assert len(set(seen)) == TOTAL
    assert seen == [880000 + i for i in range(1, TOTAL + 1)]


def test_get_on_a_post_originated_next_page_url_is_405(client: httpx.Client):
    next_url = client.post("/BillingItems/query", json=EVERYTHING).json()["pageDetails"]["nextPageUrl"]
    r = client.get(next_url)
    assert r.status_code == 405
    assert r.json() == {"Message": "The requested resource does not support http method 'GET'."}


def test_get_originated_query_pages_with_get(client: httpx.Client):
    r = client.get("/BillingItems/query", params={"search": json.dumps(EVERYTHING)})
    next_url = r.json()["pageDetails"]["nextPageUrl"]
    r2 = client.get(next_url)
    assert r2.status_code == 200
    assert r2.json()["items"][0]["id"] == 880501


def test_prev_page_url_goes_back(client: httpx.Client):
    first = client.post("/BillingItems/query", json=EVERYTHING).json()
    second = client.post(first["pageDetails"]["nextPageUrl"], json=EVERYTHING).json()
    assert second["pageDetails"]["prevPageUrl"]
    back = client.post(second["pageDetails"]["prevPageUrl"], json=EVERYTHING).json()
    assert [i["id"] for i in back["items"]] == [i["id"] for i in first["items"]]


def test_paging_keeps_the_filter(client: httpx.Client):
    body = {"filter": [{"op": "gt", "field": "rate", "value": 200}], "MaxRecords": 300}
    count = client.post("/BillingItems/query/count", json=body).json()["queryCount"]
    assert count == TOTAL - 200
    seen: list[int] = []
    url = "/BillingItems/query"
    while url:
        page = client.post(url, json=body).json()
        assert page["pageDetails"]["requestCount"] == 300
        assert all(i["rate"] > 200 for i in page["items"])
        seen += [i["id"] for i in page["items"]]
        url = page["pageDetails"]["nextPageUrl"]
    assert len(seen) == count


def test_id_paging_fallback_works(client: httpx.Client):
    last, total = 0, 0
    while True:
        body = {"MaxRecords": 500, "filter": [{"op": "gt", "field": "id", "value": last}]}
        items = client.post("/BillingItems/query", json=body).json()["items"]
        total += len(items)
        if len(items) < 500:
            break
        last = max(i["id"] for i in items)
    assert total == TOTAL


@pytest.mark.parametrize("bad", [0, 501, -1, "10", True, 2.5])
def test_max_records_must_be_1_to_500(client: httpx.Client, bad: object):
    r = client.post("/BillingItems/query", json={**EVERYTHING, "MaxRecords": bad})
    assert r.status_code == 500
    assert "MaxRecords" in r.json()["errors"][0]


def test_max_records_limits_the_page(client: httpx.Client):
    one = client.post("/BillingItems/query", json={**EVERYTHING, "MaxRecords": 1}).json()
    assert len(one["items"]) == 1
    assert one["pageDetails"]["requestCount"] == 1
    assert one["pageDetails"]["nextPageUrl"]
    full = client.post("/BillingItems/query", json={**EVERYTHING, "maxRecords": 500}).json()
    assert len(full["items"]) == 500


def test_include_fields_limits_the_columns(client: httpx.Client):
    body = {"filter": [{"op": "eq", "field": "id", "value": 880001}], "IncludeFields": ["id", "ItemName", "rate"]}
    item = client.post("/BillingItems/query", json=body).json()["items"][0]
    assert item == {"id": 880001, "itemName": "line 1", "rate": 1, "userDefinedFields": []}


def test_include_fields_must_include_id_past_500_results(client: httpx.Client):
    r = client.post("/BillingItems/query", json={**EVERYTHING, "IncludeFields": ["itemName"]})
    assert r.status_code == 500
    assert "id" in r.json()["errors"][0]
    ok = client.post("/BillingItems/query", json={**EVERYTHING, "IncludeFields": ["itemName", "id"]})
    assert ok.status_code == 200
    small = {"filter": [{"op": "lt", "field": "id", "value": 880010}], "IncludeFields": ["itemName"]}
    assert client.post("/BillingItems/query", json=small).status_code == 200


def test_include_fields_unknown_field(client: httpx.Client):
    r = client.post("/BillingItems/query", json={**EVERYTHING, "IncludeFields": ["id", "colour"]})
    assert r.status_code == 500
    assert "colour" in r.json()["errors"][0]


def test_bad_paging_token(client: httpx.Client):
    r = client.post("/BillingItems/query/next", params={"paging": "garbage"}, json=EVERYTHING)
    assert r.status_code == 500
