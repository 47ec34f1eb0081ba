"""Webhook payloads, signatures and delivery (docs/autotask.md §11).

Events are queued when a subscribed Company or Contact changes and delivered when someone calls
`AutotaskSimulator.deliver_webhooks()` (`POST /_sandbox/webhooks/deliver`): deterministic, no background
thread. A failed delivery stays queued for the next call; after 5 attempts it moves to the error log
(Autotask's WebhookEventErrorLogs); after 25 consecutive failures the webhook is deactivated and its
DeactivationUrl receives `Action: "Deactivated"`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

MAX_ATTEMPTS = 5
DEACTIVATE_AFTER = 25
SIGNING_MODES = ("raw", "escaped")

# What Autotask signs (Autotask's "Secret key and payload verification" page,
# https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/Webhooks/SecretKeyPayloadVerification.htm, and the
# published verifier msoukhomlinov/n8n-nodes-autotask nodes/Autotask/helpers/webhook/signature.ts, fixed in 2025
# for non-English characters): the HMAC is over the body with, inside JSON strings, `& < > ' " + \`` and every
# non-ASCII UTF-16 unit written as \uXXXX in upper-case hex (`\"` becomes `\u0022`; characters outside the BMP
# become two escapes, a surrogate pair, as .NET's encoder writes them); other escapes such as `\\` stay as they
# are. The body delivered is the plain JSON (raw UTF-8), so a receiver must re-escape it to verify.
_ESCAPED = set("&<>'+`")


def escape_json_strings(raw: str) -> str:
    """Re-escape a JSON text the way Autotask does before signing (see above)."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(raw):
        ch = raw[i]
        if not in_string:
            out.append(ch)
            in_string = ch == '"'
            i += 1
            continue
        if ch == '"':
            out.append(ch)
            in_string = False
            i += 1
            continue
        if ch == "\\":
            nxt = raw[i + 1] if i + 1 < len(raw) else ""
            out.append("\\u0022" if nxt == '"' else ch + nxt)
            i += 2
            continue
        if ch in _ESCAPED or ord(ch) > 127:
            encoded = ch.encode("utf-16-be")
            out.extend(f"\\u{int.from_bytes(encoded[j:j + 2], 'big'):04X}" for j in range(0, len(encoded), 2))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def sign(secret: str, body: bytes, mode: str = "escaped") -> str:
    """The X-Hook-Signature value: `sha1=` + base64(HMAC-SHA1(secret, body))."""
    message = escape_json_strings(body.decode("utf-8")).encode("utf-8") if mode == "escaped" else body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha1).digest()
    return "sha1=" + base64.b64encode(digest).decode("ascii")


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


@dataclass
class PendingEvent:
    webhook_entity: str          # "CompanyWebhooks"
    webhook_id: int
    url: str
    secret: str | None
    body: bytes
    guid: str
    action: str
    entity_id: int
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    deactivation: bool = False

    def report(self, delivered: bool) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("body", "secret")}
        data["delivered"] = delivered
        data["payload"] = json.loads(self.body)
        return data


@dataclass
class WebhookQueue:
    pending: list[PendingEvent] = field(default_factory=list)
    error_log: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    signing: str = "escaped"
    timeout: float = 10.0

    def clear(self) -> None:
        self.pending.clear()
        self.error_log.clear()
        self.delivered.clear()


def post(client: httpx.Client, event: PendingEvent, signing: str) -> None:
    """One delivery attempt; records the outcome on the event."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if event.secret:
        headers["X-Hook-Signature"] = sign(event.secret, event.body, signing)
    event.attempts += 1
    try:
        response = client.post(event.url, content=event.body, headers=headers)
    except httpx.HTTPError as exc:
        event.last_status, event.last_error = None, f"{type(exc).__name__}: {exc}"
        return
    event.last_status = response.status_code
    event.last_error = None if response.is_success else f"HTTP {response.status_code}"
