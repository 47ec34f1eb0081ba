"""One Xero organisation's data, and the context a write runs in.

Records are kept close to the wire format (Xero's own field names) with Python types inside:
`date` for calendar dates, timezone-aware `datetime` for UTC timestamps, `Decimal` for money.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

Record = dict[str, Any]

# Xero's Timezone codes for the zones a demo organisation is likely to use.
TIMEZONES = {
    "NEWZEALANDSTANDARDTIME": "Pacific/Auckland",
    "AUSEASTERNSTANDARDTIME": "Australia/Sydney",
    "GMTSTANDARDTIME": "Europe/London",
    "PACIFICSTANDARDTIME": "America/Los_Angeles",
    "EASTERNSTANDARDTIME": "America/New_York",
    "UTC": "UTC",
}


def new_id() -> str:
    return str(uuid.uuid4())


def stable_id(*parts: str) -> str:
    """A deterministic id for fixture records that arrive without one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "xero-sandbox:" + ":".join(parts)))


def norm(text: str | None) -> str:
    """Xero compares names and numbers without regard to case or surrounding space."""
    return (text or "").strip().casefold()


class ValidationFailed(Exception):
    """A write element that Xero would refuse: the messages go into the element's ValidationErrors."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class Org:
    def __init__(self, tenant_id: str, tenant_name: str) -> None:
        self.tenant_id = tenant_id
        self.tenant_name = tenant_name
        self.organisation: Record = {}
        self.accounts: dict[str, Record] = {}
        self.tax_rates: dict[str, Record] = {}
        self.currencies: dict[str, Record] = {}
        self.items: dict[str, Record] = {}
        self.tracking: dict[str, Record] = {}
        self.branding: dict[str, Record] = {}
        self.contacts: dict[str, Record] = {}
        self.invoices: dict[str, Record] = {}
        self.credit_notes: dict[str, Record] = {}
        self.purchase_orders: dict[str, Record] = {}
        self.payments: dict[str, Record] = {}
        self.allocations: dict[str, Record] = {}
        self.number_counters: dict[str, int] = {}
        # store -> normalised number -> ids: a speed-up for 10,000-document sandboxes (see documents_numbered)
        self._numbers: dict[str, dict[str, set[str]]] = {}
        self._numbered_ids: dict[str, set[str]] = {}

    # ------------------------------------------------------------------ settings

    @property
    def base_currency(self) -> str:
        return str(self.organisation.get("BaseCurrency") or "NZD")

    @property
    def timezone(self) -> ZoneInfo:
        name = TIMEZONES.get(str(self.organisation.get("Timezone", "")).upper(), "Pacific/Auckland")
        return ZoneInfo(name)

    def today(self, now: datetime) -> date:
        """"Defaults to the current date based on the timezone setting of the organisation"."""
        return now.astimezone(self.timezone).date()

    # ------------------------------------------------------------------ look-ups

    def account_by_code(self, code: str | None) -> Record | None:
        wanted = norm(code)
        return next((a for a in self.accounts.values() if wanted and norm(a.get("Code")) == wanted), None)

    def tax_rate(self, tax_type: str | None) -> Record | None:
        wanted = norm(tax_type)
        return next((t for t in self.tax_rates.values() if wanted and norm(t.get("TaxType")) == wanted), None)

    def item_by_code(self, code: str | None) -> Record | None:
        wanted = norm(code)
        return next((i for i in self.items.values() if wanted and norm(i.get("Code")) == wanted), None)

    def contacts_named(self, name: str | None) -> list[Record]:
        wanted = norm(name)
        return [c for c in self.contacts.values() if wanted and norm(c.get("Name")) == wanted]

    def contact_by_number(self, number: str | None) -> Record | None:
        wanted = norm(number)
        return next((c for c in self.contacts.values() if wanted and norm(c.get("ContactNumber")) == wanted), None)

    def tracking_category(self, *, category_id: str | None = None, name: str | None = None) -> Record | None:
        if category_id:
            return self.tracking.get(category_id.lower())
        wanted = norm(name)
        return next((t for t in self.tracking.values() if wanted and norm(t.get("Name")) == wanted), None)

    def documents_numbered(self, store: str, id_field: str, number_field: str, number: str) -> list[Record]:
        """The documents of `store` whose number is `number` (normalised), found through an index instead of a
        scan of every document. The index only proposes ids: each candidate's current number is compared
        again, and a store whose documents the index has not all seen is indexed afresh, so the answer is the
        scan's answer."""
        records: dict[str, Record] = getattr(self, store)
        if len(self._numbered_ids.get(store, ())) != len(records):
            self._numbers[store], self._numbered_ids[store] = {}, set()
            for record in records.values():
                self.index_number(store, id_field, number_field, record)
        wanted = norm(number)
        found = (records.get(i) for i in self._numbers.get(store, {}).get(wanted, ()))
        return [r for r in found if r is not None and norm(r.get(number_field)) == wanted]

    def index_number(self, store: str, id_field: str, number_field: str, record: Record) -> None:
        """Called whenever a document is stored, so that documents_numbered can find it."""
        self._numbers.setdefault(store, {}).setdefault(norm(record.get(number_field)), set()).add(record[id_field])
        self._numbered_ids.setdefault(store, set()).add(record[id_field])

    def next_number(self, prefix: str, taken: Callable[[str], bool]) -> str:
        """Xero's "auto-generate from your Organisation Invoice Settings": PREFIX-0001, skipping used numbers."""
        counter = self.number_counters.get(prefix, 0)
        while True:
            counter += 1
            candidate = f"{prefix}{counter:04d}"
            if not taken(candidate):
                self.number_counters[prefix] = counter
                return candidate


Emit = Callable[[str, str, str, dict[str, Any] | None], None]


@dataclass
class WriteContext:
    """What a write needs besides the organisation: the time, unit decimal places, and the event sink."""

    org: Org
    now: datetime
    unitdp: int = 2
    emit: Emit = field(default=lambda category, event_type, resource_id, data: None)
    trusted: bool = False  # fixture loading: ids, numbers and timestamps may be given
    settlement_events: bool = False  # announce payment/allocation changes as document UPDATEs (unverified)

    @property
    def today(self) -> date:
        return self.org.today(self.now)
