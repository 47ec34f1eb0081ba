"""Autotask query bodies (docs/autotask.md §4), built and checked before they are sent.

A filter is a tree of immutable `Filter` nodes; a `Query` adds `MaxRecords` and `IncludeFields` and renders
the exact JSON body Autotask expects:

    Query([not_exist("webServiceDate"), eq("isVoided", False)], include_fields=["invoiceNumber"]).body()
    == {"MaxRecords": 500, "IncludeFields": ["id", "invoiceNumber"],
        "Filter": [{"op": "notExist", "field": "webServiceDate"}, {"op": "eq", "field": "isVoided", "value": False}]}

What the builder refuses (each one an error Autotask would answer, caught before a call is spent): a query
with no filter, a comparison with no value (`null` is an error; use `exist`/`notExist`), more than one UDF
filter, more than 500 OR conditions (`in` values and `or` items count), `MaxRecords` outside 1-500, naive
datetimes (Autotask times are UTC; say which instant you mean). `IncludeFields` always gains `id` (required
past 500 results and needed by id paging). `chunked_in` splits long `in` lists into several queries.

`dumps` serialises a body (or any write body) to JSON with `Decimal` written as an exact JSON number, so
money never passes through binary floating point on the way out either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, cast

MAX_RECORDS: Final = 500
MAX_OR_CONDITIONS: Final = 500
MAX_UDF_FILTERS: Final = 1

Op = Literal["eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains", "exist", "notExist",
             "in", "notIn", "and", "or"]
COMPARISON_OPS: Final = frozenset({"eq", "noteq", "gt", "gte", "lt", "lte"})
STRING_OPS: Final = frozenset({"beginsWith", "endsWith", "contains"})
EXISTENCE_OPS: Final = frozenset({"exist", "notExist"})
LIST_OPS: Final = frozenset({"in", "notIn"})
GROUP_OPS: Final = frozenset({"and", "or"})
ALL_OPS: Final = COMPARISON_OPS | STRING_OPS | EXISTENCE_OPS | LIST_OPS | GROUP_OPS

Scalar = str | int | bool | Decimal | datetime | date
Value = Scalar | tuple[Scalar, ...] | None


class QueryError(ValueError):
    """A query Autotask would reject, refused before it is sent."""


def format_datetime(value: datetime) -> str:
    """An aware datetime as ISO-8601 UTC with a `Z` (whole seconds unless it has microseconds)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise QueryError(f"datetime {value.isoformat()} has no time zone; Autotask filters need a UTC instant")
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def _scalar_json(value: Scalar) -> str | int | bool | Decimal:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, Decimal) and not value.is_finite():
        raise QueryError(f"{value} is not a number Autotask can compare with")
    return value


def _check_scalar(op: str, name: str, value: object) -> Scalar:
    if value is None:
        raise QueryError(f"the '{op}' filter on {name} needs a value; to match an empty field use notExist/exist")
    if isinstance(value, float):
        raise QueryError(f"the '{op}' filter on {name} has a float value; use int or Decimal (money is exact)")
    if not isinstance(value, str | int | bool | Decimal | datetime | date):
        raise QueryError(f"the '{op}' filter on {name} has a value of type {type(value).__name__}")
    if isinstance(value, datetime):
        format_datetime(value)  # refuses naive datetimes now, not when the body is rendered
    if isinstance(value, Decimal) and not value.is_finite():
        raise QueryError(f"the '{op}' filter on {name} has {value}, which is not a number Autotask can compare")
    return value


@dataclass(frozen=True, slots=True)
class Filter:
    """One node of an Autotask filter: a leaf (`op`, `field`, `value`, `udf`) or a group (`and`/`or` + `items`)."""

    op: Op
    field: str | None = None
    value: Value = None
    udf: bool = False
    items: tuple[Filter, ...] = ()

    def __post_init__(self) -> None:
        if self.op not in ALL_OPS:
            raise QueryError(f"'{self.op}' is not an Autotask filter operator")
        if self.op in GROUP_OPS:
            if self.field is not None or self.value is not None or self.udf:
                raise QueryError(f"an '{self.op}' group takes items only, not a field or value")
            if not self.items:
                raise QueryError(f"an '{self.op}' group needs at least one item")
            if not all(isinstance(item, Filter) for item in self.items):
                raise QueryError(f"the items of an '{self.op}' group must be filters")
            return
        if not isinstance(self.field, str) or not self.field.strip():
            raise QueryError(f"the '{self.op}' filter needs a field name")
        if self.items:
            raise QueryError(f"the '{self.op}' filter takes no items")
        if self.op in EXISTENCE_OPS:
            if self.value is not None:
                raise QueryError(f"the '{self.op}' filter on {self.field} takes no value")
        elif self.op in LIST_OPS:
            if not isinstance(self.value, tuple) or not self.value:
                raise QueryError(f"the '{self.op}' filter on {self.field} needs a non-empty list of values")
            for v in self.value:
                _check_scalar(self.op, self.field, v)
        else:
            if isinstance(self.value, tuple):
                raise QueryError(f"the '{self.op}' filter on {self.field} takes one value, not a list")
            _check_scalar(self.op, self.field, self.value)
            if self.op in STRING_OPS and not isinstance(self.value, str):
                raise QueryError(f"the '{self.op}' filter on {self.field} needs a text value")

    # --- counting what Autotask limits --------------------------------------------------------------

    @property
    def or_conditions(self) -> int:
        """OR conditions as Autotask's 500 limit counts them: each `in`/`notIn` value and each `or` item."""
        if self.op in LIST_OPS:
            return len(cast(tuple[Scalar, ...], self.value))
        own = len(self.items) if self.op == "or" else 0
        return own + sum(item.or_conditions for item in self.items)

    @property
    def udf_filters(self) -> int:
        return int(self.udf) + sum(item.udf_filters for item in self.items)

    # --- wire form ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        if self.op in GROUP_OPS:
            return {"op": self.op, "items": [item.to_json() for item in self.items]}
        node: dict[str, Any] = {"op": self.op, "field": self.field}
        if self.op in LIST_OPS:
            node["value"] = [_scalar_json(v) for v in cast(tuple[Scalar, ...], self.value)]
        elif self.op not in EXISTENCE_OPS:
            node["value"] = _scalar_json(cast(Scalar, self.value))
        if self.udf:
            node["udf"] = True
        return node


# --- builders, one per operator ---------------------------------------------------------------------

def eq(name: str, value: Scalar, *, udf: bool = False) -> Filter:
    return Filter("eq", name, value, udf)



def gt(name: str, value: Scalar, *, udf: bool = False) -> Filter:
    return Filter("gt", name, value, udf)


def gte(name: str, value: Scalar, *, udf: bool = False) -> Filter:
    return Filter("gte", name, value, udf)


def lt(name: str, value: Scalar, *, udf: bool = False) -> Filter:
    return Filter("lt", name, value, udf)


def lte(name: str, value: Scalar, *, udf: bool = False) -> Filter:
    return Filter("lte", name, value, udf)


def begins_with(name: str, value: str, *, udf: bool = False) -> Filter:
    return Filter("beginsWith", name, value, udf)



def contains(name: str, value: str, *, udf: bool = False) -> Filter:
    return Filter("contains", name, value, udf)



def not_exist(name: str, *, udf: bool = False) -> Filter:
    return Filter("notExist", name, None, udf)


def in_(name: str, values: Iterable[Scalar], *, udf: bool = False) -> Filter:
    return Filter("in", name, tuple(values), udf)





def everything() -> Filter:
    """The usual "all records" filter: `id gte 0` (a query needs at least one filter)."""
    return Filter("gte", "id", 0)


# --- the query --------------------------------------------------------------------------------------

def _include(fields: Iterable[str] | None) -> tuple[str, ...] | None:
    if fields is None:
        return None
    names: list[str] = []
    for name in fields:
        if not isinstance(name, str) or not name.strip():
            raise QueryError("IncludeFields holds field names")
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if not names:
        return None
    if "id" not in {n.lower() for n in names}:
        names.insert(0, "id")
    return tuple(names)


@dataclass(frozen=True, slots=True, init=False)
class Query:
    """An Autotask query: filters (an implicit AND), optional IncludeFields, MaxRecords (page size)."""

    filters: tuple[Filter, ...]
    include_fields: tuple[str, ...] | None = None
    max_records: int = MAX_RECORDS

    def __init__(self, filters: Filter | Iterable[Filter], include_fields: Iterable[str] | None = None,
                 max_records: int = MAX_RECORDS) -> None:
        nodes = (filters,) if isinstance(filters, Filter) else tuple(filters)
        if not nodes:
            raise QueryError("an Autotask query needs at least one filter (use everything() for all records)")
        if not all(isinstance(node, Filter) for node in nodes):
            raise QueryError("a query's filters must be Filter nodes")
        if isinstance(max_records, bool) or not isinstance(max_records, int) or not 1 <= max_records <= MAX_RECORDS:
            raise QueryError(f"MaxRecords must be between 1 and {MAX_RECORDS}")
        udfs = sum(node.udf_filters for node in nodes)
        if udfs > MAX_UDF_FILTERS:
            raise QueryError(f"Autotask allows one user-defined-field filter per query; this one has {udfs}")
        ors = sum(node.or_conditions for node in nodes)
        if ors > MAX_OR_CONDITIONS:
            raise QueryError(f"Autotask allows {MAX_OR_CONDITIONS} OR conditions per query; this one has {ors} "
                             "(split long 'in' lists with chunked_in)")
        object.__setattr__(self, "filters", nodes)
        object.__setattr__(self, "include_fields", _include(include_fields))
        object.__setattr__(self, "max_records", max_records)

    @classmethod
    def all(cls, include_fields: Iterable[str] | None = None, max_records: int = MAX_RECORDS) -> Query:
        return cls([everything()], include_fields, max_records)

    @property
    def or_conditions(self) -> int:
        return sum(node.or_conditions for node in self.filters)

    def body(self) -> dict[str, Any]:
        """The JSON body as Autotask reads it (values still Python: render with `dumps`)."""
        out: dict[str, Any] = {"MaxRecords": self.max_records}
        if self.include_fields:
            out["IncludeFields"] = list(self.include_fields)
        out["Filter"] = [node.to_json() for node in self.filters]
        return out

    def after_id(self, last_id: int) -> Query:
        """The next page by id: this query plus `id gt last_id`, 500 a page (the paging fallback)."""
        return Query((*self.filters, gt("id", last_id)), self.include_fields, MAX_RECORDS)


def chunked_in(name: str, values: Iterable[Scalar], size: int = MAX_RECORDS, *,
               extra: Sequence[Filter] = (), include_fields: Iterable[str] | None = None,
               max_records: int = MAX_RECORDS) -> list[Query]:
    """Queries for `name in values`, each within Autotask's 500-OR limit (with `extra` ANDed on each).

    Values are de-duplicated (first occurrence kept, order preserved); no value is lost or repeated across
    the queries. An empty `values` gives no queries: the caller makes no call.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise QueryError("chunk size must be a positive whole number")
    budget = MAX_OR_CONDITIONS - sum(node.or_conditions for node in extra)
    if budget < 1:
        raise QueryError("the extra filters already use every OR condition Autotask allows")
    size = min(size, budget)
    unique = list(dict.fromkeys(values))
    include = tuple(include_fields) if include_fields is not None else None
    return [Query((*extra, in_(name, unique[i:i + size])), include, max_records)
            for i in range(0, len(unique), size)]


# --- JSON ---------------------------------------------------------------------------------------------

def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent to Autotask")
        text = format(value, "f")
        out.append(text)
    elif isinstance(value, datetime | date):
        out.append(json.dumps(_scalar_json(value)))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, float):
        raise TypeError("a float reached the Autotask adapter; use Decimal for money and quantities")
    elif value is None or isinstance(value, str | int | bool):
        out.append(json.dumps(value, ensure_ascii=False))
    else:
        raise TypeError(f"cannot send a {type(value).__name__} to Autotask")


def dumps(value: Any) -> str:
    """JSON text of a body; `Decimal` as an exact number, datetimes as UTC `Z` strings, floats refused."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def loads(text: str | bytes) -> Any:
    """JSON with every non-integer number as `Decimal` (money never passes through float)."""
    return json.loads(text, parse_float=Decimal)
