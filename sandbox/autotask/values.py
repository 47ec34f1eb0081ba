"""Typing of field values: what a write may store, and how stored and filter values compare.

Autotask runs on SQL Server: string comparisons are case-insensitive and `=` ignores trailing spaces;
comparisons with NULL are never true (so `noteq` does not match empty fields). Datetimes are UTC.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sandbox.autotask.errors import AutotaskError
from sandbox.autotask.schema import BOOLEAN, DATETIME, DECIMAL, DOUBLE, INTEGER, LONG, STRING, FieldDef

_INT_RE = re.compile(r"^[+-]?\d+$")


@lru_cache(maxsize=65536)
def parse_datetime(text: str) -> datetime:
    """ISO 8601 date or date-time; naive values are UTC. Raises ValueError."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Python accepts at most 6 fractional digits; .NET sends up to 7.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(when: datetime) -> str:
    when = when.astimezone(UTC)
    if when.microsecond:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _type_error(entity: str, f: FieldDef, value: Any) -> AutotaskError:
    return AutotaskError(f"Value of field {f.name} on entity {entity}: {value!r} is not a valid {f.data_type}.")


def coerce_write(entity: str, f: FieldDef, value: Any) -> Any:
    """The stored form of a written value; raises the Autotask-style error for a wrong type."""
    if value is None:
        if f.required:
            raise AutotaskError(f"Field {f.name} on entity {entity} is required and cannot be null.")
        return None
    kind = f.data_type
    if kind in (INTEGER, LONG):
        if isinstance(value, bool):
            raise _type_error(entity, f, value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and _INT_RE.match(value.strip()):
            value = int(value.strip())
        if not isinstance(value, int):
            raise _type_error(entity, f, value)
        if f.picklist and value not in {v for v, _ in f.picklist}:
            raise AutotaskError(f"Value {value} of field {f.name} on entity {entity} is not a valid picklist value.")
        return value
    if kind in (DECIMAL, DOUBLE):
        number = to_decimal(value)
        if number is None:
            raise _type_error(entity, f, value)
        return int(number) if number == number.to_integral_value() and "." not in str(value) else float(number)
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise _type_error(entity, f, value)
        return value
    if kind == DATETIME:
        if not isinstance(value, str):
            raise _type_error(entity, f, value)
        try:
            return format_datetime(parse_datetime(value))
        except ValueError:
            raise _type_error(entity, f, value) from None
    if kind == STRING:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise _type_error(entity, f, value)
        if f.length and len(value) > f.length:
            raise AutotaskError(f"Value of field {f.name} on entity {entity} exceeds the maximum length of "
                                f"{f.length} characters.")
        return value
    raise _type_error(entity, f, value)


# --- comparison -----------------------------------------------------------------------------------

def comparable(data_type: str, value: Any, *, like: bool = False) -> Any:
    """A stored value in comparable form (None stays None: SQL NULL)."""
    if value is None:
        return None
    if data_type == STRING:
        text = str(value).casefold()
        return text if like else text.rstrip(" ")
    if data_type in (INTEGER, LONG, DECIMAL, DOUBLE):
        return to_decimal(value)
    if data_type == DATETIME:
        try:
            return parse_datetime(str(value))
        except ValueError:
            return None
    if data_type == BOOLEAN:
        return bool(value)
    return value


def filter_value(data_type: str, field_name: str, value: Any, *, like: bool = False) -> Any:
    """A filter's value in comparable form; raises the Autotask-style error for a wrong type."""
    if data_type == BOOLEAN:
        if not isinstance(value, bool):
            raise AutotaskError(f"Invalid value for boolean field {field_name}: booleans must be JSON true or false.")
        return value
    if value is None or isinstance(value, dict | list):
        raise AutotaskError(f"Invalid query syntax. A value is required for the filter on {field_name}.")
    if data_type in (INTEGER, LONG) and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        # Accepted on 0/1 integer fields such as Contacts.isActive: KerkhoffTechnologies/django-autotask has filtered
        # contacts with `isActive eq "true"` against live tenants for years (djautotask/sync.py ContactSynchronizer).
        return Decimal(1) if value.strip().lower() == "true" else Decimal(0)
    if data_type in (INTEGER, LONG, DECIMAL, DOUBLE):
        number = to_decimal(value)
        if number is None:
            raise AutotaskError(f"Invalid value for field {field_name}: {value!r} is not a number.")
        return number
    if data_type == DATETIME:
        try:
            return parse_datetime(str(value))
        except ValueError:
            raise AutotaskError(f"Invalid value for field {field_name}: {value!r} is not a date.") from None
    return comparable(STRING, value, like=like)
