"""The two one-use items that guard connecting Xero (xero/connect.py says why): setup tokens and OAuth states.

A setup token is stored by its hash, lives an hour and starts one approval only; the OAuth `state` sent to
Xero lives ten minutes and is consumed by the callback. Both expire by the table's TTL as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from autoxero.state.table import StateTable, oauth_state_key, setup_token_key, unless_condition_fails


@dataclass(frozen=True, slots=True)
class OpenApproval:
    """What the callback learns from the `state` it consumed: which setup token started it, and when."""

    setup_token_hash: str
    started_ms: int


class Approvals:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def issue_setup_token(self, token_hash: str, expires_at: int) -> None:
        self._t.table.put_item(Item={**setup_token_key(token_hash), "expires_at": expires_at, "ttl": expires_at})

    def spend_setup_token(self, token_hash: str, state_hash: str, now: int) -> bool:
        """Mark the token as used by this one approval; False if it is unknown, expired or already used."""
        return unless_condition_fails(lambda: self._t.table.update_item(
            Key=setup_token_key(token_hash), UpdateExpression="SET oauth_state = :state",
            ConditionExpression="attribute_exists(pk) AND expires_at > :now AND attribute_not_exists(oauth_state)",
            ExpressionAttributeValues={":state": state_hash, ":now": now})) is not None

    def retire_setup_token(self, token_hash: str, state_hash: str, now: int) -> bool:
        """Delete the token if it is unexpired and still this approval's; False otherwise."""
        return unless_condition_fails(lambda: self._t.table.delete_item(
            Key=setup_token_key(token_hash), ConditionExpression="oauth_state = :state AND expires_at > :now",
            ExpressionAttributeValues={":state": state_hash, ":now": now})) is not None

    def open(self, state: str, approval: OpenApproval, expires_at: int) -> None:
        self._t.table.put_item(Item={**oauth_state_key(state), "expires_at": expires_at, "ttl": expires_at,
                                     "setup_token_hash": approval.setup_token_hash,
                                     "started_ms": approval.started_ms})

    def consume(self, state: str, now: int) -> OpenApproval | None:
        """The approval this `state` opened, deleted as it is read (one use); None if unknown or expired."""
        answer = unless_condition_fails(lambda: self._t.table.delete_item(
            Key=oauth_state_key(state), ConditionExpression="attribute_exists(pk) AND expires_at > :now",
            ExpressionAttributeValues={":now": now}, ReturnValues="ALL_OLD"))
        item = answer.get("Attributes") if answer else None
        if not item:
            return None
        return OpenApproval(str(item.get("setup_token_hash") or ""), int(str(item.get("started_ms") or 0)))
