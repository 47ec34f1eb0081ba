"""bench/fastmoto.py hands moto only the queried partition: every Query answers what unpatched moto answers
(items, order, pages, counts), for the table and for its global index."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
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
    before = Table.query
    yield
    Table.query = before  # type: ignore[method-assign]


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
