"""The last run of each flow: what `autoxero status` shows."""

from __future__ import annotations

import json
from typing import Any

from autoxero.state.table import StateTable, run_key


class Runs:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def record(self, flow: str, summary: dict[str, Any]) -> None:
        self._t.table.put_item(Item={**run_key(flow), "flow": flow, "at": int(self._t.now()),
                                     "summary": json.dumps(summary, default=str, sort_keys=True)})

    def last(self, flow: str) -> dict[str, Any] | None:
        return self.parse(flow, self._t.get(run_key(flow)))

    @staticmethod
    def parse(flow: str, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """A flow's last run from its item (`run_key(flow)`), read alone or in a batch."""
        if not item:
            return None
        return {"flow": flow, "at": int(item["at"]), **json.loads(str(item["summary"]))}
