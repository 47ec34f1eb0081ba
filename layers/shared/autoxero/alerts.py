"""Human notices by SNS (e-mailed to the customer's finance contact): needs attention, failures, expiry."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Notice:
    """One record a finance person must change: which (number and customer), what is wrong, what to do."""

    label: str
    message: str
    fix: str
    link: str | None = None


MAX_LISTED = 25


def digest(flow: str, notices: list[Notice], connection: str | None) -> tuple[str, str]:
    """The one e-mail a run may send: the connection problem first (nothing syncs until it is fixed), then
    each new record that needs a change, with what to change and where."""
    name = flow.replace("_", " ")
    parts: list[str] = []
    if connection:
        parts.append(f"The {name} sync could not run: {connection}\nWhat to do: reconnect or correct the "
                     "credentials named above; nothing is lost, the next run continues where this one stopped.")
    if notices:
        parts.append(f"The {name} sync held back {len(notices)} record(s) that need a change before they can "
                     "be sent; the others were sent as usual.")
        for number, notice in enumerate(notices[:MAX_LISTED], 1):
            lines = [f"{number}. {notice.label}", f"   What is wrong: {notice.message}",
                     f"   What to change: {notice.fix}"]
            if notice.link:
                lines.append(f"   Open: {notice.link}")
            parts.append("\n".join(lines))
        if len(notices) > MAX_LISTED:
            parts.append(f"...and {len(notices) - MAX_LISTED} more, listed by `autoxero attention list`.")
        parts.append("Once changed, the next scheduled run sends them by itself.")
    if connection:
        subject = f"the {name} sync cannot run" + (f"; {len(notices)} record(s) need a change" if notices else "")
    else:
        subject = f"{len(notices)} {name} record(s) need a change"
    return subject, "\n\n".join(parts)
