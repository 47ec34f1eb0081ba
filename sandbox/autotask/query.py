"""The query body (docs/autotask.md §4): parsing, validation and evaluation of filters.

A filter node is `{op, field, value, udf, items}`; the top-level array is an implicit AND. Property
names are not case-sensitive, neither are field names or operators.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.autotask.errors import AutotaskError
from sandbox.autotask.schema import BOOLEAN, STRING, EntityDef
from sandbox.autotask.values import comparable, filter_value

MAX_PAGE = 500
MAX_OR_CONDITIONS = 500
OR_LIMIT_MESSAGE = "Invalid query syntax. Queries are limited to 500 or fewer 'OR' conditions."

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

_OPS = {name.lower(): name for name in (
    "eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains", "exist", "notExist",
    "in", "notIn", "and", "or")}
_LIKE_OPS = {"beginsWith", "endsWith", "contains"}
_ORDER_OPS = {"gt", "gte", "lt", "lte"}


@dataclass
class Query:
    predicate: Predicate
    max_records: int
    include_fields: list[str] | None
    include_udfs: list[str] = field(default_factory=list)


def lower_keys(obj: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in obj.items()}


def parse_search(text: str | None) -> Any:
    """The `search=` parameter of a GET query."""
    if not text:
        raise AutotaskError("Invalid query syntax. The search parameter is required.")
    try:
        return json.loads(text)
    except ValueError:
        raise AutotaskError("Invalid query syntax. The search parameter is not valid JSON.") from None


class _Compiler:
    def __init__(self, entity: EntityDef, udfs: dict[str, dict[str, Any]]) -> None:
        self.entity = entity
        self.udfs = {name.lower(): d for name, d in udfs.items()}
        self.udf_filters = 0
        self.or_conditions = 0
        self.dropped: list[str] = []   # operators Autotask ignored

    def compile_all(self, nodes: Any) -> Predicate:
        # No `filter` at all is a 500 (.NET's null-argument message); `"filter": []` is matched as "no condition
        # holds": 200 with no rows (Servosity/msp-skills#257, both seen on a live tenant).
        if nodes is None:
            raise AutotaskError("Value cannot be null.\r\nParameter name: filters")
        if not isinstance(nodes, list):
            raise AutotaskError("Invalid query syntax. The filter must be an array.")
        if not nodes:
            return lambda record: False
        predicates = [p for p in (self.compile(node) for node in nodes) if p is not None]
        return lambda record: all(p(record) for p in predicates)

    def compile(self, node: Any) -> Predicate | None:
        """A node's predicate; None for a node Autotask drops without a word: an unknown operator (`ne` for
        `noteq`) is discarded and the rows come back unfiltered (WYRE-AI/autotask-mcp#193, confirmed against a
        live tenant in WYRE-AI/autotask-mcp#282, where an unknown *field* is a 500 instead)."""
        if not isinstance(node, dict):
            raise AutotaskError("Invalid query syntax. A filter must be an object.")
        node = lower_keys(node)
        op = _OPS.get(str(node.get("op", "")).lower())
        if op is None:
            self.dropped.append(str(node.get("op")))
            return None
        if op in ("and", "or"):
            items = node.get("items")
            if not isinstance(items, list) or not items:
                raise AutotaskError(f"Invalid query syntax. The '{op}' operator requires items.")
            predicates = [p for p in (self.compile(item) for item in items) if p is not None]
            if not predicates:
                return None
            if op == "or":
                self.or_conditions += len(predicates)
                return lambda record: any(p(record) for p in predicates)
            return lambda record: all(p(record) for p in predicates)
        return self.leaf(op, node)

    def _field(self, node: dict[str, Any]) -> tuple[str, str, Callable[[Record], Any]]:
        """(display name, data type, getter) of the field a leaf filters on."""
        name = node.get("field")
        if not isinstance(name, str) or not name:
            raise AutotaskError("Invalid query syntax. A filter requires a field.")
        if node.get("udf") is True:
            self.udf_filters += 1
            if self.udf_filters > 1:
                raise AutotaskError("Invalid query syntax. Only one user-defined field filter is allowed per query.")
            udf = self.udfs.get(name.lower())
            if udf is None:
                raise AutotaskError(f"Unable to find user-defined field {name} on entity {self.entity.name}.")
            udf_name = udf["name"]
            return udf_name, udf.get("dataType", STRING), lambda r: r["userDefinedFields"].get(udf_name)
        f = self.entity.lookup(name)
        if f is None:
            raise AutotaskError(f"Unable to find field {name} on entity {self.entity.name}.")
        if not f.queryable:
            raise AutotaskError(f"The field {f.name} on entity {self.entity.name} is not queryable.")
        return f.name, f.data_type, lambda r, key=f.name: r.get(key)

    def leaf(self, op: str, node: dict[str, Any]) -> Predicate:
        name, data_type, get = self._field(node)
        if op == "exist":
            return lambda r: _present(get(r))
        if op == "notExist":
            return lambda r: not _present(get(r))
        value = node.get("value")
        if data_type == BOOLEAN and op not in ("eq", "noteq"):
            raise AutotaskError(f"Invalid query syntax. The '{op}' operator cannot be used on boolean field {name}.")
        if op in ("in", "notIn"):
            if not isinstance(value, list) or not value:
                raise AutotaskError(f"Invalid query syntax. The '{op}' operator requires an array value.")
            if op == "in":
                self.or_conditions += len(value)
            wanted = {filter_value(data_type, name, v) for v in value}
            if op == "in":
                return lambda r: (c := comparable(data_type, get(r))) is not None and c in wanted
            return lambda r: (c := comparable(data_type, get(r))) is not None and c not in wanted
        if op in _LIKE_OPS:
            if data_type != STRING:
                raise AutotaskError(f"Invalid query syntax. The '{op}' operator requires a string field; "
                                    f"{name} is {data_type}.")
            needle = filter_value(STRING, name, value, like=True)
            test = {"beginsWith": str.startswith, "endsWith": str.endswith,
                    "contains": lambda hay, n: n in hay}[op]
            return lambda r: (c := comparable(STRING, get(r), like=True)) is not None and test(c, needle)
        target = filter_value(data_type, name, value)
        compare = _COMPARE[op]
        return lambda r: (c := comparable(data_type, get(r))) is not None and compare(c, target)


def _present(value: Any) -> bool:
    return value is not None and value != ""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "noteq": lambda a, b: a != b,
    "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
}


def parse_query(entity: EntityDef, body: Any, udfs: dict[str, dict[str, Any]]) -> Query:
    if not isinstance(body, dict):
        raise AutotaskError("Invalid query syntax. The query body must be a JSON object.")
    body = lower_keys(body)
    compiler = _Compiler(entity, udfs)
    predicate = compiler.compile_all(body.get("filter"))
    if compiler.or_conditions > MAX_OR_CONDITIONS:
        raise AutotaskError(OR_LIMIT_MESSAGE)
    max_records = body.get("maxrecords")
    if max_records is None:
        max_records = MAX_PAGE
    if isinstance(max_records, bool) or not isinstance(max_records, int) or not 1 <= max_records <= MAX_PAGE:
        raise AutotaskError(f"Invalid query syntax. MaxRecords must be between 1 and {MAX_PAGE}.")
    include = body.get("includefields")
    include_fields: list[str] | None = None
    if include:
        if not isinstance(include, list) or not all(isinstance(x, str) for x in include):
            raise AutotaskError("Invalid query syntax. IncludeFields must be an array of field names.")
        include_fields = []
        include_udfs: list[str] = []
        by_udf = {name.lower(): name for name in udfs}
        for name in include:
            f = entity.lookup(name)
            if f is not None:
                if f.name not in include_fields:
                    include_fields.append(f.name)
            elif name.lower() in by_udf:   # a UDF named in IncludeFields comes back in userDefinedFields
                include_udfs.append(by_udf[name.lower()])
            else:
                raise AutotaskError(f"Unable to find field {name} on entity {entity.name}.")
        return Query(predicate=predicate, max_records=max_records, include_fields=include_fields or ["id"],
                     include_udfs=include_udfs)
    return Query(predicate=predicate, max_records=max_records, include_fields=include_fields)
