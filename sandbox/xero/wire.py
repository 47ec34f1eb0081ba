"""Xero's wire conventions: MS-JSON dates, money rounding, exact-decimal JSON, and Xero's error bodies.

Everything the simulator sends goes through `dumps` so that money keeps its scale (`40.00`, `2.0000`),
exactly as the real API prints it, and every error the simulator raises is a `XeroError` carrying the
status and the body Xero would send.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# ---------------------------------------------------------------------------------------------- dates

_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<tz>[+-]\d{4})?\)/$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def ms_of(when: datetime) -> int:
    return (when - EPOCH) // _MS


def truncate_ms(when: datetime) -> datetime:
    """Xero keeps UpdatedDateUTC to the millisecond; so does the simulator (If-Modified-Since compares these)."""
    return EPOCH + timedelta(milliseconds=ms_of(when))


def ms_datetime(when: datetime) -> str:
    """`/Date(1541176290160+0000)/` — how entity timestamps (UpdatedDateUTC, …) are sent."""
    return f"/Date({ms_of(when)}+0000)/"


def ms_envelope(when: datetime) -> str:
    """`/Date(1552326816230)/` — the envelope's DateTimeUTC, as in the spec examples."""
    return f"/Date({ms_of(when)})/"


def ms_date(day: date) -> str:
    """A calendar date is midnight UTC: `/Date(1539993600000+0000)/`."""
    return ms_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC))


def date_string(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def utc_string(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connection_time(when: datetime) -> str:
    """Identity API timestamps: `2019-12-07T18:46:19.5165400` (seven fractional digits, no zone)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def webhook_time(when: datetime) -> str:
    """Webhook eventDateUtc: `2026-01-01T00:00:00.000`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def parse_date(value: str) -> date:
    """A date as clients send it: `2026-01-31`, `2026-01-31T00:00:00[Z|±hh:mm]`, or `/Date(ms[±zzzz])/`."""
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        when = EPOCH + timedelta(milliseconds=int(match.group("ms")))
        tz = match.group("tz")
        if tz:
            sign = 1 if tz[0] == "+" else -1
            when += sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
        return when.date()
    if _ISO_DATE.match(text):
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.date()


def parse_instant(value: str) -> datetime:
    """If-Modified-Since: ISO 8601 (naive means UTC, as the SDK sends it) or an RFC 1123 HTTP date."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = parsedate_to_datetime(text)  # raises ValueError/TypeError when it is neither
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_stored_instant(value: Any) -> datetime:
    """A timestamp in a fixture: `/Date(ms+0000)/`, ISO text, or a datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    match = _MS_DATE.match(str(value).strip())
    if match:
        return EPOCH + timedelta(milliseconds=int(match.group("ms")))
    return parse_instant(str(value))


# ---------------------------------------------------------------------------------------------- money

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    return quantize(value, 2)


def as_decimal(value: Any) -> Decimal | None:
    """A JSON number (or numeric string, which Xero's deserialiser accepts) as a Decimal; None if not numeric."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def fmt(value: Decimal) -> str:
    """Money as it appears inside Xero's messages: plain, no exponent."""
    return format(value, "f")


# ---------------------------------------------------------------------------------------------- JSON

_DEC_MARK = "\u0000dec:"
_DEC_RAW = re.compile(r'"\\u0000dec:(-?\d+(?:\.\d+)?)\\u0000"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_DEC_MARK}{format(value, 'f')}\u0000"
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(v) for v in value]
    return value


def dumps(payload: Any) -> bytes:
    """JSON with Decimals written verbatim (`40.00` stays `40.00`)."""
    text = json.dumps(_mark(payload), ensure_ascii=False, separators=(",", ":"))
    return _DEC_RAW.sub(r"\1", text).encode("utf-8")


def loads(body: bytes) -> Any:
    """Parse a request body; floats become Decimals so that no precision is lost."""
    return json.loads(body.decode("utf-8"), parse_float=Decimal)


# ---------------------------------------------------------------------------------------------- errors

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


class XeroError(Exception):
    """An answer that is not a success: the status, the body (dict → JSON, str → text) and extra headers."""

    def __init__(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def post_data_invalid(message: str) -> XeroError:
    return XeroError(400, {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": message})


def json_invalid(detail: str, path: str = "") -> XeroError:
    where = f" Path '{path}'." if path else ""
    return post_data_invalid(f"JSON for post data was invalid,{detail}{where}")


def query_parse(message: str) -> XeroError:
    return XeroError(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


def not_found() -> XeroError:
    return XeroError(404, NOT_FOUND_TEXT)


def bad_parameter(name: str, kind: str) -> XeroError:
    return XeroError(400, f"Supplied parameter '{name}' cannot be parsed - must be of type {kind}.")


def validation_exception(elements: list[dict[str, Any]]) -> XeroError:
    return XeroError(400, {"ErrorNumber": 10, "Type": "ValidationException",
                           "Message": "A validation exception occurred", "Elements": elements})


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """The identity platform's problem body (401/403/429)."""
    return {"Type": None, "Title": title, "Status": status, "Detail": detail,
            "Instance": str(uuid.uuid4()), "Extensions": {}}


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
