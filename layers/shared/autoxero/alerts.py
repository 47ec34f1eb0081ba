"""Human notices by SNS (e-mailed to the customer's finance contact): needs attention, failures, expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from autoxero.observability import logger
from autoxero.redaction import redact

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class Alerts:
    def __init__(self, topic_arn: str | None, customer: str, client: SNSClient | None = None) -> None:
        self._topic = topic_arn
        self._customer = customer
        self._client = client
        self.sent: list[tuple[str, str]] = []

    def notify(self, subject: str, message: str) -> None:
        subject = redact(f"autoxero ({self._customer}): {subject}")[:100]
        message = redact(message)
        self.sent.append((subject, message))
        if not self._topic:
            logger.info("alert (no topic configured)", subject=subject)
            return
        try:
            client = self._client or boto3.client("sns")
            client.publish(TopicArn=self._topic, Subject=subject, Message=message)
        except Exception:  # an alert that cannot be sent must never stop the sync
            logger.exception("alert could not be sent", subject=subject)
