"""Webhooks: every create/update of a contact, invoice or credit note queues an event; delivery to the
registered targets happens only when asked (`deliver`), so tests are deterministic.

Each target has its own cursor: a batch is everything after the last batch the target acknowledged with
200. A target that fails keeps its events for the next delivery (Xero retries).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from .wire import webhook_time

DELIVERY_TIMEOUT = 5.0  # Xero gives a receiver five seconds


def sign(key: str, body: bytes) -> str:
    """`x-xero-signature`: base64(HMAC-SHA256(webhook key, raw body))."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Event:
    sequence: int
    payload: dict[str, Any]


@dataclass
class Target:
    url: str
    cursor: int  # last sequence acknowledged (or the sequence current when registered)


class WebhookHub:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.delivery_lock = threading.Lock()
        self.transport: httpx.BaseTransport | None = None  # tests may inject one
        self._random = random.Random(0)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.events: list[Event] = []
            self.targets: dict[str, Target] = {}
            self.sequence = 0

    def emit(self, *, tenant_id: str, category: str, event_type: str, resource_id: str, resource_url: str,
             when: datetime, data: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {
            "resourceUrl": resource_url, "resourceId": resource_id, "eventDateUtc": webhook_time(when),
            "eventType": event_type, "eventCategory": category, "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
        }
        if data is not None:
            payload["data"] = data
        with self.lock:
            self.sequence += 1
            self.events.append(Event(self.sequence, payload))

    def add_target(self, url: str) -> None:
        with self.lock:
            if url not in self.targets:
                self.targets[url] = Target(url, self.sequence)

    def remove_targets(self) -> None:
        with self.lock:
            self.targets.clear()

    def pending(self, url: str) -> list[Event]:
        with self.lock:
            target = self.targets[url]
            return [e for e in self.events if e.sequence > target.cursor]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "events": [dict(e.payload, sequence=e.sequence) for e in self.events],
                "targets": [{"url": t.url, "pending": sum(1 for e in self.events if e.sequence > t.cursor)}
                            for t in self.targets.values()],
            }

    def _entropy(self) -> str:
        return "".join(self._random.choice(string.ascii_uppercase) for _ in range(20))

    def _post(self, url: str, body: bytes, signature: str) -> tuple[int | None, str | None]:
        try:
            with httpx.Client(timeout=DELIVERY_TIMEOUT, transport=self.transport) as client:
                response = client.post(url, content=body, headers={
                    "Content-Type": "application/json; charset=utf-8", "x-xero-signature": signature,
                    "User-Agent": "Xero-Webhooks (sandbox)"})
            return response.status_code, None
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def deliver(self, key: str) -> list[dict[str, Any]]:
        """POST every target its pending events as one signed batch; advance its cursor on HTTP 200."""
        results: list[dict[str, Any]] = []
        with self.delivery_lock:
            with self.lock:
                targets = list(self.targets.values())
            for target in targets:
                events = self.pending(target.url)
                if not events:
                    results.append({"url": target.url, "status": None, "delivered": 0, "skipped": "no events"})
                    continue
                batch = {"events": [e.payload for e in events], "firstEventSequence": events[0].sequence,
                         "lastEventSequence": events[-1].sequence, "entropy": self._entropy()}
                body = json.dumps(batch, separators=(",", ":")).encode()
                status, error = self._post(target.url, body, sign(key, body))
                ok = status == 200
                if ok:
                    with self.lock:
                        target.cursor = max(target.cursor, events[-1].sequence)
                results.append({"url": target.url, "status": status, "error": error,
                                "delivered": len(events) if ok else 0, "pending": 0 if ok else len(events),
                                "firstEventSequence": events[0].sequence,
                                "lastEventSequence": events[-1].sequence})
        return results

    def intent_to_receive(self, url: str, key: str) -> dict[str, Any]:
        """Xero's handshake: an empty, correctly signed batch (expects 200), then a wrongly signed one (expects 401)."""
        def body() -> bytes:
            return json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                               "entropy": self._entropy()}, separators=(",", ":")).encode()

        good = body()
        good_status, good_error = self._post(url, good, sign(key, good))
        bad = body()
        bad_status, bad_error = self._post(url, bad, sign(key + "-wrong", bad))
        return {"url": url, "correctlySigned": {"status": good_status, "error": good_error},
                "incorrectlySigned": {"status": bad_status, "error": bad_error},
                "ok": good_status == 200 and bad_status == 401}
