"""The Autotask query builder: exact bodies, the rules Autotask enforces, chunking, JSON without floats."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoxero.autotask import query as q
from autoxero.autotask.errors import (
    AutotaskAuthError,
    AutotaskNotFound,
    AutotaskPermissionError,
    AutotaskThrottled,
    AutotaskUnavailable,
    AutotaskValidationError,
    classify,
)
from autoxero.autotask.query import Filter, Query, QueryError, chunked_in, dumps, loads
from autoxero.redaction import register_secret

# --- exact bodies -------------------------------------------------------------------------------------

def test_reference_example_body_is_exact():
    query = Query(
        [q.not_exist("webServiceDate"), q.eq("isVoided", False),
         Filter("or", items=(q.gte("invoiceDateTime", datetime(2025, 1, 1, tzinfo=UTC)),
                             q.in_("companyID", [29683, 29684])))],
        include_fields=["id", "invoiceNumber", "invoiceTotal"])
    assert query.body() == {
        "MaxRecords": 500,
        "IncludeFields": ["id", "invoiceNumber", "invoiceTotal"],
        "Filter": [
            {"op": "notExist", "field": "webServiceDate"},
            {"op": "eq", "field": "isVoided", "value": False},
            {"op": "or", "items": [
                {"op": "gte", "field": "invoiceDateTime", "value": "2025-01-01T00:00:00Z"},
                {"op": "in", "field": "companyID", "value": [29683, 29684]},
            ]},
        ],
    }
    # booleans go out as JSON true/false, never 1/0 or "True"
    assert '"value":false' in dumps(query.body())


@pytest.mark.parametrize(("node", "wire"), [
    (q.eq("a", 1), {"op": "eq", "field": "a", "value": 1}),
    (Filter("noteq", "a", "x"), {"op": "noteq", "field": "a", "value": "x"}),
    (q.gt("a", 1), {"op": "gt", "field": "a", "value": 1}),
    (q.gte("a", 1), {"op": "gte", "field": "a", "value": 1}),
    (q.lt("a", 1), {"op": "lt", "field": "a", "value": 1}),
    (q.lte("a", 1), {"op": "lte", "field": "a", "value": 1}),
    (q.begins_with("a", "Ka"), {"op": "beginsWith", "field": "a", "value": "Ka"}),
    (Filter("endsWith", "a", "Ltd"), {"op": "endsWith", "field": "a", "value": "Ltd"}),
    (q.contains("a", "uri"), {"op": "contains", "field": "a", "value": "uri"}),
    (Filter("exist", "a"), {"op": "exist", "field": "a"}),
    (q.not_exist("a"), {"op": "notExist", "field": "a"}),
    (q.in_("a", [1, 2]), {"op": "in", "field": "a", "value": [1, 2]}),
    (Filter("notIn", "a", ("x",)), {"op": "notIn", "field": "a", "value": ["x"]}),
    (Filter("and", items=(q.eq("a", 1), q.eq("b", 2))), {"op": "and", "items": [{"op": "eq", "field": "a", "value": 1},
                                                                  {"op": "eq", "field": "b", "value": 2}]}),
    (q.eq("Industry", "Accounting", udf=True), {"op": "eq", "field": "Industry", "value": "Accounting", "udf": True}),
])
def test_every_operator_renders_its_wire_form(node: Filter, wire: dict):
    assert node.to_json() == wire


def test_everything_filter():
    assert q.everything().to_json() == {"op": "gte", "field": "id", "value": 0}
    assert Query.all().body() == {"MaxRecords": 500, "Filter": [{"op": "gte", "field": "id", "value": 0}]}


def test_dates_are_iso_utc_with_z():
    nzdt = timezone(timedelta(hours=13))
    assert q.gte("d", datetime(2026, 10, 1, 13, 0, tzinfo=nzdt)).to_json()["value"] == "2026-10-01T00:00:00Z"
    assert q.lt("d", datetime(2026, 10, 1, 0, 0, 0, 500_000, tzinfo=UTC)).to_json()["value"] == \
        "2026-10-01T00:00:00.5Z"
    assert q.gte("d", date(2026, 8, 1)).to_json()["value"] == "2026-08-01T00:00:00Z"
    with pytest.raises(QueryError, match="no time zone"):
        q.gte("d", datetime(2026, 10, 1))  # a naive datetime: the point of the test


def test_include_fields_always_carry_id_once():
    assert Query.all(include_fields=["companyName"]).include_fields == ("id", "companyName")
    assert Query.all(include_fields=["companyName", "ID", "companyName"]).include_fields == ("companyName", "ID")
    assert "IncludeFields" not in Query.all(include_fields=[]).body()


# --- what Autotask would reject, refused early --------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda: Query([]),
    lambda: Query.all(max_records=0),
    lambda: Query.all(max_records=501),
    lambda: Query.all(max_records=True),
    lambda: q.eq("isActive", None),          # null is an error; use notExist
    lambda: q.eq("rate", 1.5),                # floats are refused: money is Decimal
    lambda: q.eq("a", [1, 2]),
    lambda: q.in_("a", []),
    lambda: q.in_("a", [1, None]),
    lambda: q.contains("a", 5),
    lambda: Filter("and"),
    lambda: Filter("between", "a", 1),
    lambda: Filter("eq", "", 1),
    lambda: Filter("exist", "a", 1),
    lambda: q.eq("a", Decimal("NaN")),
    lambda: Query([q.eq("A", "x", udf=True), q.eq("B", "y", udf=True)]),
    lambda: Query([Filter("or", items=(q.eq("A", "x", udf=True), q.eq("b", 1))), Filter("exist", "C", udf=True)]),
    lambda: Query([q.in_("id", range(501))]),
    lambda: Query([q.in_("id", range(300)), Filter("or", items=tuple(q.eq("x", i) for i in range(201)))]),
])
def test_builder_refuses_what_autotask_rejects(build):
    with pytest.raises(QueryError):
        build()


def test_or_conditions_are_counted_like_autotask():
    query = Query([q.in_("id", range(400)), Filter("or", items=(q.eq("a", 1), q.in_("b", [1, 2, 3])))])
    assert query.or_conditions == 400 + 2 + 3
    assert Query([q.in_("id", range(500))]).or_conditions == 500  # exactly the limit is fine


def test_query_is_immutable_and_after_id_adds_a_filter():
    base = Query([q.eq("isVoided", False)], max_records=50)
    nxt = base.after_id(880_500)
    assert base.filters == (q.eq("isVoided", False),)
    assert nxt.body()["Filter"][-1] == {"op": "gt", "field": "id", "value": 880_500}
    assert nxt.max_records == 500
    with pytest.raises(AttributeError):
        base.max_records = 10  # type: ignore[misc]


# --- chunking -----------------------------------------------------------------------------------------

def test_chunked_in_splits_at_500_and_keeps_extra_filters():
    queries = chunked_in("invoiceID", range(1, 1201), extra=[q.eq("isVoided", False)])
    assert [len(x.filters[-1].value) for x in queries] == [500, 500, 200]
    assert all(x.filters[0] == q.eq("isVoided", False) for x in queries)
    assert chunked_in("invoiceID", []) == []


def test_chunked_in_leaves_room_for_or_conditions_in_extra_filters():
    extra = [Filter("or", items=(q.eq("a", 1), q.eq("a", 2)))]
    queries = chunked_in("id", range(1000), extra=extra)
    assert all(x.or_conditions <= 500 for x in queries)
    assert len(queries[0].filters[-1].value) == 498


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.integers(min_value=0, max_value=10**9), max_size=2000),
       size=st.integers(min_value=1, max_value=700))
def test_chunking_never_loses_or_duplicates_ids(ids: list[int], size: int):
    queries = chunked_in("id", ids, size)
    sent = [v for query in queries for v in query.filters[-1].value]
    assert sent == list(dict.fromkeys(ids))                 # every id once, in first-seen order
    assert all(query.or_conditions <= 500 for query in queries)
    assert all(len(query.filters[-1].value) <= size for query in queries)


# --- round trips --------------------------------------------------------------------------------------

_field_names = st.sampled_from(["id", "companyID", "invoiceNumber", "isVoided", "invoiceDateTime", "rate"])
_scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2**53), max_value=2**53), st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9))
_leaves = st.one_of(
    st.builds(Filter, st.sampled_from(sorted(q.COMPARISON_OPS)), _field_names, _scalars),
    st.builds(Filter, st.sampled_from(sorted(q.STRING_OPS)), _field_names,
              st.text(max_size=10)),
    st.builds(Filter, st.sampled_from(sorted(q.EXISTENCE_OPS)), _field_names),
    st.builds(lambda op, f, vs: Filter(op, f, tuple(vs)), st.sampled_from(sorted(q.LIST_OPS)), _field_names,
              st.lists(_scalars, min_size=1, max_size=5)),
)
_filters = st.recursive(_leaves, lambda inner: st.builds(
    lambda op, items: Filter(op, items=tuple(items)), st.sampled_from(["and", "or"]),
    st.lists(inner, min_size=1, max_size=4)), max_leaves=12)


# --- JSON ---------------------------------------------------------------------------------------------

def test_dumps_writes_decimal_exactly_and_refuses_floats():
    text = dumps({"rate": Decimal("0.1000001"), "big": Decimal("1E+3"), "when": datetime(2026, 1, 2, tzinfo=UTC)})
    assert text == '{"rate":0.1000001,"big":1000,"when":"2026-01-02T00:00:00Z"}'
    assert loads(text)["rate"] == Decimal("0.1000001")
    assert isinstance(loads('{"x": 0.1}')["x"], Decimal)
    with pytest.raises(TypeError):
        dumps({"rate": 0.1})
    assert json.loads(dumps({"name": 'Ngā "Whānau" Trust'})) == {"name": 'Ngā "Whānau" Trust'}


# --- error classification -----------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "text", "kind"), [
    (500, "Zone information could not be determined", AutotaskAuthError),
    (500, "IntegrationCode is invalid.", AutotaskAuthError),
    (401, "Authorization has been denied for this request.", AutotaskAuthError),
    (500, "The logged in Resource does not have the adequate permissions to query this entity.",
     AutotaskPermissionError),
    (500, "Itgenatr005: Thread Threshold Exceeded.", AutotaskThrottled),
    (200, "The Autotask API thread threshold of 3 threads has been exceeded", AutotaskThrottled),
    (429, "Request Threshold Exceeded", AutotaskThrottled),
    (429, "", AutotaskThrottled),
    (503, "", AutotaskUnavailable),
    (502, "Bad gateway", AutotaskUnavailable),
    (404, "No HTTP resource was found that matches the request URI", AutotaskNotFound),
    (500, "Unable to find Invoices with id 5.", AutotaskNotFound),
    (500, "Unable to find field foo on entity Invoices.", AutotaskValidationError),
    (500, "Invalid query syntax. Queries are limited to 500 or fewer 'OR' conditions.", AutotaskValidationError),
    (400, "bad request", AutotaskValidationError),
])
def test_classify_by_body_text_before_status(status: int, text: str, kind: type):
    err = classify(status, [text] if text else [])
    assert type(err) is kind
    assert err.retryable == (kind in (AutotaskThrottled, AutotaskUnavailable))


def test_throttle_kinds_and_messages_have_no_secret():
    register_secret("hunter2-super-secret")
    thread = classify(500, ["Itgenatr005 thread threshold"])
    hourly = classify(429, ["Request Threshold Exceeded: hunter2-super-secret"], retry_after=3600)
    assert isinstance(thread, AutotaskThrottled)
    assert thread.kind == "thread"
    assert isinstance(hourly, AutotaskThrottled)
    assert hourly.kind == "hourly"
    assert hourly.retry_after == 3600
    assert "hunter2-super-secret" not in str(hourly)
    assert "hunter2-super-secret" not in hourly.detail
    assert "hourly" in str(hourly)


# Autotask drops an operator it does not know without a word and returns every row (WYRE-AI/autotask-mcp#193,
# against a live tenant; the sandbox does the same): the builder is the only gate, so it must never let one through.
DOCUMENTED_OPERATORS = {"eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains", "exist",
                        "notExist", "in", "notIn", "and", "or"}


def _ops(node: dict) -> set[str]:
    return {node["op"], *(op for item in node.get("items", []) for op in _ops(item))}


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=12).filter(lambda op: op.lower() not in {o.lower() for o in DOCUMENTED_OPERATORS}))
def test_an_operator_autotask_does_not_know_is_refused_everywhere(op: str):
    with pytest.raises(QueryError):
        Filter(op, "id", 1)  # type: ignore[arg-type]
    for near_miss in ("ne", "neq", "startsWith", "isNull", "between", "like", "EQ "):
        with pytest.raises(QueryError):
            Filter(near_miss, "id", 1)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.lists(_filters, min_size=1, max_size=4))
def test_every_body_the_builder_renders_uses_documented_operators_only(filters: list[Filter]):
    for node in Query(filters).body()["Filter"]:
        assert _ops(node) <= DOCUMENTED_OPERATORS
