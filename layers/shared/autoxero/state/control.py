"""The stack's paused/active switch: a new stack writes nothing until a person has pushed settings and
resumed it, and anyone can pause it again. Every change is in the ledger with who made it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from autoxero.state.ledger import Ledger
from autoxero.state.table import StateError, StateTable, control_key, settings_key

NEVER_RESUMED = ("a new stack starts paused: check its settings on the console's Mappings page, accept them, "
                 "then resume")
CONTROL_FLOW = "control"
CONTROL_RECORD = "stack"


class ResumeRefused(StateError):
    """Resuming would let the stack write with settings nobody chose."""


@dataclass(frozen=True, slots=True)
class ControlStatus:
    paused: bool
    by: str | None
    at: datetime | None
    reason: str | None

    def __iter__(self) -> Iterator[Any]:  # (paused, by, at, reason) = control.status()
        return iter((self.paused, self.by, self.at, self.reason))

    def describe(self) -> str:
        """One line for people: status, CLI and alerts."""
        if not self.paused:
            since = f" since {self.at:%Y-%m-%d %H:%M} UTC" if self.at else ""
            return f"active{since}" + (f" (resumed by {self.by})" if self.by else "")
        who = f" by {self.by}" if self.by else ""
        when = f" on {self.at:%Y-%m-%d %H:%M} UTC" if self.at else ""
        return f"paused{who}{when}: {self.reason or NEVER_RESUMED}"


class Control:
    def __init__(self, table: StateTable) -> None:
        self._t = table
        self._ledger = Ledger(table)

    def status(self) -> ControlStatus:
        return self.parse(self._t.get(control_key()))

    @staticmethod
    def parse(item: dict[str, Any] | None) -> ControlStatus:
        """The switch from its item (`control_key()`), read alone or in a batch."""
        if not item:
            return ControlStatus(paused=True, by=None, at=None, reason=NEVER_RESUMED)
        at = datetime.fromtimestamp(float(item["at"]), UTC) if item.get("at") is not None else None
        return ControlStatus(paused=bool(item["paused"]), by=_text(item.get("by")), at=at,
                             reason=_text(item.get("reason")))

    def paused(self) -> bool:
        return self.status().paused

    def pause(self, by: str, reason: str) -> ControlStatus:
        return self._set(True, by, reason or "paused by hand")

    def resume(self, by: str, reason: str = "") -> ControlStatus:
        """Refused until a settings document has been pushed: the defaults alone are nobody's choice."""
        if not self._t.get(settings_key()):
            raise ResumeRefused("no settings have been pushed to this stack yet: open the console's Mappings page, "
                                "review the settings (change what is wrong) and accept them as version 1, then "
                                "resume. From the command line: `autoxero settings suggest`, review the file, "
                                "`autoxero settings validate` and `autoxero settings push`, then resume.")
        return self._set(False, by, reason or None)

    def _set(self, paused: bool, by: str, reason: str | None) -> ControlStatus:
        if not by.strip():
            raise StateError("say who is pausing or resuming the stack")
        now = self._t.now()
        item: dict[str, Any] = {**control_key(), "paused": paused, "by": by, "at": int(now)}
        if reason:
            item["reason"] = reason
        self._t.table.put_item(Item=item)
        self._ledger.append(CONTROL_FLOW, CONTROL_RECORD, "pause" if paused else "resume",
                            "paused" if paused else "active", {"by": by, "reason": reason or ""})
        return self.status()

    def history(self) -> list[tuple[str, str, str]]:
        """(when, action, who) of every pause and resume still in the ledger, oldest first."""
        return [(e.at, e.action, str(e.detail.get("by", "")))
                for e in self._ledger.history(CONTROL_FLOW, CONTROL_RECORD)]


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
