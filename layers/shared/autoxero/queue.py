"""The events queue (SQS) that the webhook receivers fill and the flows drain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

from autoxero.webhooks import message_body

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_SQS_BATCH = 10


class QueueError(RuntimeError):
    pass


class EventQueue:
    def __init__(self, url: str, client: SQSClient | None = None) -> None:
        self._url = url
        self._client = client or boto3.client("sqs")

    def send(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _SQS_BATCH):
            chunk = messages[start:start + _SQS_BATCH]
            answer = self._client.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "MessageBody": message_body(m)} for i, m in enumerate(chunk)],
            )
            if answer.get("Failed"):
                raise QueueError(f"{len(answer['Failed'])} event(s) could not be queued; the sender will retry")
