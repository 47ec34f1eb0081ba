"""The one DynamoDB table (single-table design) and the key of every item kind that lives in it.

Keys are built here and nowhere else, so the state model in docs/design.md can be read off this file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Clock = Callable[[], float]


class StateError(RuntimeError):
    """A state operation was refused (a conflict, not an outage)."""


def unless_condition_fails[T](write: Callable[[], T]) -> T | None:
    """Make one conditional write and return DynamoDB's answer, or None when its condition did not hold
    (ConditionalCheckFailedException: another writer got there first, or the item is not in the expected
    state). Any other error is raised."""
    try:
        return write()
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise


def cursor_key(flow: str) -> dict[str, str]:
    return {"pk": f"CURSOR#{flow}", "sk": "CURSOR"}


def map_key(kind: str, autotask_id: str | int) -> dict[str, str]:
    return {"pk": f"MAP#{kind}#{autotask_id}", "sk": "MAP"}


def reverse_map_key(kind: str, xero_id: str) -> dict[str, str]:
    return {"pk": f"XMAP#{kind}#{xero_id}", "sk": "XMAP"}


def ledger_pk(flow: str, record_id: str | int) -> str:
    return f"LEDGER#{flow}#{record_id}"


def attention_key(flow: str, record_id: str | int) -> dict[str, str]:
    return {"pk": f"ATTENTION#{flow}#{record_id}", "sk": "ATTENTION"}


def lease_key(name: str) -> dict[str, str]:
    return {"pk": f"LEASE#{name}", "sk": "LEASE"}


def settings_key() -> dict[str, str]:
    return {"pk": "SETTINGS#current", "sk": "SETTINGS"}


def settings_version_key(version: int) -> dict[str, str]:
    return {"pk": "SETTINGS#history", "sk": f"v{version:08d}"}


def control_key() -> dict[str, str]:
    return {"pk": "CONTROL#stack", "sk": "CONTROL"}


def skip_key(flow: str, record_id: str | int) -> dict[str, str]:
    return {"pk": f"SKIP#{flow}#{record_id}", "sk": "SKIP"}


def run_key(flow: str) -> dict[str, str]:
    return {"pk": f"RUN#{flow}", "sk": "LAST"}


def cache_key(name: str) -> dict[str, str]:
    return {"pk": f"CACHE#{name}", "sk": "CACHE"}


def quota_pk(api: str) -> str:
    return f"QUOTA#{api}"


def oauth_state_key(state: str) -> dict[str, str]:
    return {"pk": f"OAUTHSTATE#{state}", "sk": "OAUTHSTATE"}


def setup_token_key(token_hash: str) -> dict[str, str]:
    return {"pk": f"SETUP#{token_hash}", "sk": "SETUP"}


BATCH_GET_LIMIT = 100
ATTENTION_INDEX_PK = "ATTENTION"
SKIP_INDEX_PK = "SKIPPED"


@dataclass
class StateTable:
    """A boto3 Table resource plus the clock every state operation reads (injectable for tests)."""

    table: Table
    clock: Clock = field(default=time.time)

    @classmethod
    def connect(cls, table_name: str, clock: Clock = time.time, **boto_kwargs: Any) -> StateTable:
        resource = boto3.resource("dynamodb", **boto_kwargs)
        return cls(resource.Table(table_name), clock)

    @property
    def name(self) -> str:
        return self.table.name

    def now(self) -> float:
        return self.clock()

    def get(self, key: dict[str, str], consistent: bool = True) -> dict[str, Any] | None:
        item = self.table.get_item(Key=key, ConsistentRead=consistent).get("Item")
        return dict(item) if item is not None else None

    def get_many(self, keys: list[dict[str, str]], consistent: bool = True) -> dict[tuple[str, str], dict[str, Any]]:
        """The items at `keys` that exist, by (pk, sk): one BatchGetItem per 100 keys (DynamoDB's limit),
        retrying whatever DynamoDB leaves unprocessed. What a page or a run reads in one go."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        client = self.table.meta.client
        unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            request: dict[str, Any] = {self.name: {"Keys": unique[start:start + BATCH_GET_LIMIT],
                                                   "ConsistentRead": consistent}}
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.name, []):
                    found[(str(item["pk"]), str(item["sk"]))] = dict(item)
                request = dict(answer.get("UnprocessedKeys") or {})
        return found
