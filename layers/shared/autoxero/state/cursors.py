"""Cursors: where the last successful poll of a flow ended. They never move backwards.

A position is a string that sorts in time order (ISO-8601 UTC timestamps, or ids zero-padded by the
caller), so DynamoDB can enforce monotonicity in the write's condition.
"""

from __future__ import annotations

from autoxero.state.table import StateError, StateTable, cursor_key, unless_condition_fails


class CursorRegression(StateError):
    def __init__(self, flow: str, position: str) -> None:
        super().__init__(f"cursor {flow!r} is past {position!r}; a cursor never moves backwards")


class Cursors:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def get(self, flow: str) -> str | None:
        item = self._t.get(cursor_key(flow))
        return str(item["position"]) if item else None

    def advance(self, flow: str, position: str) -> None:
        """Move the cursor to `position`; equal is a no-op, earlier raises CursorRegression."""
        advanced = unless_condition_fails(lambda: self._t.table.put_item(
            Item={**cursor_key(flow), "position": position, "updated_at": int(self._t.now())},
            ConditionExpression="attribute_not_exists(pk) OR #p <= :p",
            ExpressionAttributeNames={"#p": "position"},
            ExpressionAttributeValues={":p": position},
        ))
        if advanced is None:
            raise CursorRegression(flow, position)

    def all(self, flows: list[str]) -> dict[str, str | None]:
        return {flow: self.get(flow) for flow in flows}
