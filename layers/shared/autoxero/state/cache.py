"""Cached documents (reference data, the Autotask zone) and the one-time tokens of the Xero connect routes:
small items with an expiry, kept in the table so that every invocation shares them."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from autoxero.state.table import StateTable, cache_key, oauth_state_key, setup_token_key

_KEEP_AFTER_EXPIRY = 86_400  # DynamoDB's TTL sweeps an item a day after it stopped being useful


@dataclass(frozen=True, slots=True)
class CacheEntry:
    document: str
    expires_at: float
    owner: str = ""  # whose view of the world it is (e.g. the Autotask user that discovered a zone)


class Cache:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def get(self, name: str) -> CacheEntry | None:
        item = self._t.get(cache_key(name))
        if not item or "document" not in item:
            return None
        return CacheEntry(str(item["document"]), float(item.get("expires_at", 0)), str(item.get("owner", "")))

    def put(self, name: str, entry: CacheEntry) -> None:
        self._t.table.put_item(Item={**cache_key(name), "document": entry.document, "owner": entry.owner,
                                     "expires_at": int(entry.expires_at),
                                     "ttl": int(entry.expires_at + _KEEP_AFTER_EXPIRY)})

    def drop(self, name: str) -> None:
        self._t.table.delete_item(Key=cache_key(name))


class ConnectTokens:
    """The setup token that opens the connect route (stored hashed), and the OAuth `state` sent to Xero: each
    with an expiry; the state is consumed exactly once."""

    def __init__(self, table: StateTable) -> None:
        self._t = table

    def put_setup_token(self, token_hash: str, expires_at: int) -> None:
        self._t.table.put_item(Item={**setup_token_key(token_hash), "expires_at": expires_at, "ttl": expires_at})

    def setup_token_valid(self, token_hash: str, now: float) -> bool:
        item = self._t.get(setup_token_key(token_hash))
        return item is not None and int(item["expires_at"]) > now

    def drop_setup_token(self, token_hash: str) -> None:
        self._t.table.delete_item(Key=setup_token_key(token_hash))

    def put_oauth_state(self, state: str, setup_token_hash: str, expires_at: int) -> None:
        self._t.table.put_item(Item={**oauth_state_key(state), "expires_at": expires_at,
                                     "setup_token_hash": setup_token_hash, "ttl": expires_at})

    def claim_oauth_state(self, state: str, now: float) -> str | None:
        """Consume the state (once, unexpired); returns the hash of the setup token that started it."""
        try:
            answer = self._t.table.delete_item(
                Key=oauth_state_key(state), ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues={":now": int(now)}, ReturnValues="ALL_OLD")
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        attributes = answer.get("Attributes") or {}
        return str(attributes["setup_token_hash"]) if "setup_token_hash" in attributes else None
