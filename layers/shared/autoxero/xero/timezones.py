"""The organisation's time zone. Xero names it with a Windows zone id written in capitals without spaces
(`Organisation.Timezone`, e.g. NEWZEALANDSTANDARDTIME: the TimeZone enum of Xero's accounting OpenAPI spec,
tests/contract/specs/xero_accounting.yaml); the IANA zone comes from the Unicode CLDR Windows-to-IANA table
as tzlocal ships it (`tzlocal.windows_tz.win_tz`)."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

# Two zones of Xero's list that CLDR no longer carries (retired Windows ids).
_RETIRED = {"KAMCHATKASTANDARDTIME": "Asia/Kamchatka", "MIDATLANTICSTANDARDTIME": "Etc/GMT+2"}


def _key(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", name.upper())


@cache
def _table() -> dict[str, str]:
    return {**{_key(windows): iana for windows, iana in win_tz.items()}, **_RETIRED}


def organisation_zone(code: str | None) -> ZoneInfo:
    """The organisation's zone; UTC when Xero gives none or one nobody knows."""
    name = _table().get(_key(code or ""), "UTC")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")
