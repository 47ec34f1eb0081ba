"""The settings document in the table: validated on the way in and out, versioned, never lost.

Saving is optimistic: it names the version it replaces, so two people pushing at once cannot silently
overwrite each other. Every version is kept in the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from autoxero.settings import SyncSettings
from autoxero.state.table import StateError, StateTable, settings_key, settings_version_key


class SettingsConflict(StateError):
    pass


@dataclass(frozen=True, slots=True)
class SettingsVersion:
    version: int
    author: str
    saved_at: int


class SettingsStore:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def load(self) -> tuple[SyncSettings, int]:
        """The current settings and their version; defaults (version 0) when none were ever saved."""
        return self.parse(self._t.get(settings_key()))

    @staticmethod
    def parse(item: dict[str, Any] | None) -> tuple[SyncSettings, int]:
        """The settings and their version from the item at `settings_key()`, read alone or in a batch."""
        if not item:
            return SyncSettings(), 0
        return SyncSettings.model_validate_json(str(item["document"])), int(item["version"])

    def save(self, settings: SyncSettings, expected_version: int, author: str = "autoxero") -> int:
        version = expected_version + 1
        document = settings.model_dump_json()
        condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :v"
        values: dict[str, Any] = {} if expected_version == 0 else {":v": expected_version}
        put: dict[str, Any] = {"TableName": self._t.name,
               "Item": ({**settings_key(), "document": document, "version": version, "author": author,
                              "saved_at": int(self._t.now())}),
               "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = (values)
        history: dict[str, Any] = {"TableName": self._t.name,
                   "Item": ({**settings_version_key(version), "document": document, "version": version,
                                  "author": author, "saved_at": int(self._t.now())})}
        try:
            self._t.table.meta.client.transact_write_items(TransactItems=[{"Put": put}, {"Put": history}])  # type: ignore[typeddict-item]
        except ClientError as err:
            if err.response["Error"]["Code"] == "TransactionCanceledException":
                raise SettingsConflict(
                    f"settings changed since version {expected_version}; reload and apply your change again"
                ) from None
            raise
        return version

    def version(self, version: int) -> SyncSettings | None:
        item = self._t.get(settings_version_key(version))
        return SyncSettings.model_validate_json(str(item["document"])) if item else None

    def versions(self) -> list[SettingsVersion]:
        """Every saved version, newest first: who pushed it and when."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(settings_version_key(0)["pk"]),
                                  "ScanIndexForward": False, "ProjectionExpression": "version, author, saved_at"}
        while True:
            answer = self._t.table.query(**kwargs)
            items.extend(answer["Items"])
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        return [SettingsVersion(int(i["version"]), str(i.get("author", "")), int(i.get("saved_at", 0)))
                for i in items]
