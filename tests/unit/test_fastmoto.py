"""bench/fastmoto.py hands moto only the queried partition: every Query answers what unpatched moto answers
(items, order, pages, counts), for the table and for its global index."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from bench import fastmoto


def _answers(state: Any) -> list[Any]:
    table = state.table.table
    out = []
    for kwargs in (
        {"KeyConditionExpression": Key("pk").eq("LEDGER#invoices#7")},
        {"KeyConditionExpression": Key("pk").eq("LEDGER#invoices#7"), "ScanIndexForward": False, "Limit": 2},
        {"IndexName": "gsi1", "KeyConditionExpression": Key("gsi1pk").eq("ATTENTION")},
        {"IndexName": "gsi1", "KeyConditionExpression": Key("gsi1pk").eq("ATTENTION")
         & Key("gsi1sk").begins_with("contacts#")},
        {"IndexName": "gsi1", "KeyConditionExpression": Key("gsi1pk").eq("ATTENTION"), "Limit": 3},
        {"IndexName": "gsi1", "KeyConditionExpression": Key("gsi1pk").eq("SKIPPED"), "Select": "COUNT"},
        {"IndexName": "gsi1", "KeyConditionExpression": Key("gsi1pk").eq("NOTHING")},
    ):
        answer = table.query(**kwargs)
        out.append((answer.get("Items"), answer.get("Count"), answer.get("LastEvaluatedKey")))
    return out


@pytest.fixture
def unpatched_afterwards():
    before = Table.query, Item.project
    yield
    Table.query, Item.project = before  # type: ignore[method-assign]


def test_patched_queries_answer_what_moto_answers(state, unpatched_afterwards):
    for n in range(5):
        state.ledger.append("invoices", 7, f"step {n}", "ok")
        state.ledger.append("invoices", 8, f"step {n}", "ok")
    for n in range(6):
        state.attention.raise_("invoices" if n % 2 else "contacts", n, code="c", message=f"m{n}", fix="f")
    state.attention.skip("invoices", 99, "entered by hand", by="ops@harbourit.example")

    Table.query = fastmoto._original_query  # type: ignore[method-assign]
    expected = _answers(state)
    fastmoto.install()
    assert _answers(state) == expected
    assert [len(items or []) for items, _, _ in expected] == [5, 2, 6, 3, 3, 0, 0]


def _projections(state: Any) -> list[Any]:
    table = state.table.table
    out = []
    for projection in ("#s", "extra.lines[1]", "tags[1], #s", "extra.lines[0].amount, #s", "extra.lines[5]", "absent",
                       "extra.note, extra.lines[1].amount, #s", "pk, sk, extra", "xero_id, extra.absent"):
        used = {"#s": "status"} if "#s" in projection else {}
        kwargs = {"ProjectionExpression": projection, **({"ExpressionAttributeNames": used} if used else {})}
        out.append(table.get_item(Key={"pk": "MAP#invoice#1", "sk": "MAP"}, **kwargs).get("Item"))
        out.append(table.meta.client.batch_get_item(RequestItems={table.name: {
            "Keys": [{"pk": f"MAP#invoice#{n}", "sk": "MAP"} for n in (1, 2, 3)], **kwargs}})["Responses"])
        out.append(table.query(KeyConditionExpression=Key("pk").eq("MAP#invoice#2"), **kwargs)["Items"])
    return out


def test_patched_projections_answer_what_moto_answers(state, unpatched_afterwards):
    table = state.table.table
    for n in (1, 2, 3):
        lines = [{"amount": n * 10 + k, "code": "200"} for k in range(n)]
        table.put_item(Item={"pk": f"MAP#invoice#{n}", "sk": "MAP", "status": "synced", "xero_id": f"x{n}",
                             "tags": [f"t{k}" for k in range(n)], "extra": {"note": f"n{n}", "lines": lines}})
    Table.query, Item.project = fastmoto._original_query, fastmoto._original_project  # type: ignore[method-assign]
    expected = _projections(state)
    fastmoto.install()
    assert _projections(state) == expected
    assert expected[0] == {"status": "synced"}
    assert expected[5] == [{"extra": {"lines": [{"amount": 21, "code": "200"}]}}]  # invoice 2's second line
