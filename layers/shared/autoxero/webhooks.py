"""Inbound webhooks: signature first, then shape, then enqueue — the logic behind both receivers.

Nothing is read, parsed or enqueued before the signature over the raw body checks out. The receivers
answer fast (Xero allows 5 s) and leave the work to the queue's consumer; events are triggers only
("this record changed"), so the consumer re-reads the record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_BODY_BYTES = 256 * 1024
_XERO_CATEGORIES = ("INVOICE", "CREDITNOTE")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    reason: str
    enqueued: int = 0


# ----------------------------------------------------------------------------- signatures


def xero_signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def autotask_signature(key: str, body: bytes) -> str:
    return "sha1=" + base64.b64encode(hmac.new(key.encode(), body, hashlib.sha1).digest()).decode()


# Autotask's published signing rule (SecretKeyPayload Verification page; msoukhomlinov/n8n-nodes-autotask
# helpers/webhook/signature.ts, fixed in 2025 for non-English characters): inside JSON strings, these ASCII
# characters and every non-ASCII UTF-16 unit are written as \uXXXX with upper-case hex; an escaped quote
# (\") becomes \u0022; every other escape (\\, \n, \uXXXX...) is left as it is.
_AUTOTASK_ESCAPED = frozenset("&<>'`+")


def _utf16_escapes(ch: str) -> str:
    units = ch.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04X}" for i in range(0, len(units), 2))


def escape_like_autotask(body: bytes) -> bytes:
    """The text Autotask computes its HMAC over, rebuilt from the raw JSON body it delivered."""
    text = body.decode("utf-8", errors="surrogatepass")
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        i += 1
        if not in_string:
            in_string = ch == '"'
            out.append(ch)
        elif ch == "\\":
            nxt = text[i:i + 1]
            i += 1
            out.append("\\u0022" if nxt == '"' else ch + nxt)
        elif ch == '"':
            in_string = False
            out.append(ch)
        elif ch in _AUTOTASK_ESCAPED or ord(ch) > 127:
            out.append(_utf16_escapes(ch))
        else:
            out.append(ch)
    return "".join(out).encode("utf-8", errors="surrogatepass")


def verify_xero(key: str, body: bytes, signature: str | None) -> bool:
    if not key or not signature:
        return False
    return hmac.compare_digest(xero_signature(key, body), signature.strip())


def verify_autotask(key: str, body: bytes, signature: str | None) -> bool:
    if not key or not signature:
        return False
    given = signature.strip()
    if hmac.compare_digest(autotask_signature(key, body), given):
        return True
    return hmac.compare_digest(autotask_signature(key, escape_like_autotask(body)), given)


# ----------------------------------------------------------------------------- payloads


class XeroEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    resourceUrl: str = ""
    resourceId: str = Field(min_length=1, max_length=64)
    eventDateUtc: str
    eventType: str
    eventCategory: str
    tenantId: str
    tenantType: str = "ORGANISATION"


class XeroPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    events: list[XeroEvent]
    firstEventSequence: int = 0
    lastEventSequence: int = 0
    entropy: str = ""


class AutotaskPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Action: Literal["Create", "Update", "Delete", "Deactivated"]
    Guid: str = ""
    EntityType: str
    Id: int
    Fields: dict[str, Any] = Field(default_factory=dict)
    EventTime: str = ""
    SequenceNumber: int = 0


Enqueue = Callable[[list[dict[str, Any]]], None]


def autotask_event_key(payload: AutotaskPayload) -> str:
    """One Autotask event, for de-duplicating deliveries. `Guid` is the webhook's own GUID, the same on every
    event that webhook sends (NangoHQ/nango routes connections on it: packages/server/lib/webhook/
    autotask-webhook-routing.ts, and nango.dev/docs/api-integrations/autotask/webhooks), so it names the
    sender, not the event; the event is the webhook's SequenceNumber for this record at this EventTime."""
    parts = (payload.Guid, payload.EntityType, payload.Id, payload.Action, payload.SequenceNumber, payload.EventTime)
    return "/".join(str(part) for part in parts)


def accept_xero(body: bytes, signature: str | None, *, webhook_key: str, tenant_id: str | None,
                enqueue: Enqueue) -> Reply:
    if len(body) > MAX_BODY_BYTES:
        return Reply(413, "body too large")
    if not verify_xero(webhook_key, body, signature):
        return Reply(401, "bad or missing signature")
    try:
        payload = XeroPayload.model_validate_json(body)
    except ValidationError as err:
        return Reply(400, f"malformed payload: {err.error_count()} problem(s)")
    if not payload.events:
        return Reply(200, "intent to receive")
    wanted = [e for e in payload.events
              if (tenant_id is None or e.tenantId == tenant_id) and e.eventCategory.upper() in _XERO_CATEGORIES]
    messages = [{"source": "xero", "category": e.eventCategory.upper(), "resource_id": e.resourceId,
                 "event_type": e.eventType.upper(), "event_date": e.eventDateUtc, "tenant_id": e.tenantId}
                for e in wanted]
    if messages:
        enqueue(messages)
    ignored = len(payload.events) - len(wanted)
    return Reply(200, f"accepted {len(messages)}, ignored {ignored} (other tenant or category)", len(messages))


def accept_autotask(body: bytes, signature: str | None, *, secret_key: str, enqueue: Enqueue) -> Reply:
    if len(body) > MAX_BODY_BYTES:
        return Reply(413, "body too large")
    if not verify_autotask(secret_key, body, signature):
        return Reply(401, "bad or missing signature")
    try:
        payload = AutotaskPayload.model_validate_json(body)
    except ValidationError as err:
        return Reply(400, f"malformed payload: {err.error_count()} problem(s)")
    if payload.EntityType not in ("Company", "Contact"):
        return Reply(200, f"ignored entity {payload.EntityType}")
    if payload.Action == "Deactivated":
        return Reply(200, "webhook deactivated by Autotask")
    message = {"source": "autotask", "entity": payload.EntityType, "id": payload.Id, "action": payload.Action,
               "guid": payload.Guid, "event_key": autotask_event_key(payload),
               "company_id": payload.Fields.get("CompanyID") or payload.Fields.get("companyID")}
    enqueue([message])
    return Reply(200, "accepted", 1)


def message_body(message: dict[str, Any]) -> str:
    return json.dumps(message, sort_keys=True, separators=(",", ":"))


def raw_body(event: dict[str, Any]) -> bytes:
    """The request body exactly as sent: signatures are over these bytes, never a re-serialisation."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)
