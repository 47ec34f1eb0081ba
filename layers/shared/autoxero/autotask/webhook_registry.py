"""The stack's Company and Contact webhooks in Autotask: register them (idempotently) and report them.

Autotask's REST API keeps webhooks as entities (`CompanyWebhooks`, `ContactWebhooks`: webhookUrl,
deactivationUrl, secretKey, isActive, isSubscribedTo{Create,Update,Delete}Events, notificationEmailAddress,
sendThresholdExceededNotification; isReady, webhookGUID and ownerResourceID read-only), each with child
`Fields` naming which fields fire it (`isSubscribedField`) or always ride in its payload
(`isDisplayAlwaysField`). A webhook is "ready" only once at least one field is subscribed. The field ids are
the tenant's: the `fieldID` picklist of `GET /{X}WebhookFields/entityInformation/fields`, labelled with the
REST field names. Sources: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/Webhooks/REST_WebhooksEntity.htm,
https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/Webhooks/REST_WebhookFieldsEntity.htm,
https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/Webhooks/Webhooks_Creating.htm (both URLs required),
panoramicdata/AutoTask.Psa.Api Data/CompanyWebhookModel.cs and CompanyWebhookFieldModel.cs (the swagger
models), msoukhomlinov/n8n-nodes-autotask helpers/webhook/fields.ts (field ids from that picklist) and
nango.dev/docs/api-integrations/autotask/webhooks ("at least one field with IsSubscribedField: true is
required"; check isActive and isReady).

Idempotent: a webhook is this stack's when its webhookUrl is the stack's AutotaskWebhookUrl; a second
registration updates that webhook and adds only the missing fields, never a second webhook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from autoxero.autotask import models as at
from autoxero.autotask.client import AutotaskClient
from autoxero.autotask.query import Query, eq, gte

NAME = "autoxero"  # Name is required, at most 50 characters


@dataclass(frozen=True)
class WebhookKind:
    resource: str                  # CompanyWebhooks
    fields_entity: str             # CompanyWebhookFields
    watched: str                   # Companies
    subscribed: tuple[str, ...]    # the fields whose change means the Xero contact may change
    always: tuple[str, ...] = ()   # carried in every payload (saves a read per event)


def _model_fields(model: type[Any], leave_out: Iterable[str]) -> tuple[str, ...]:
    skipped = {"id", "userDefinedFields", *leave_out}
    return tuple(name for name in model.model_fields if name not in skipped)


KINDS = (
    WebhookKind("CompanyWebhooks", "CompanyWebhookFields", "Companies",
                _model_fields(at.Company, ("lastTrackedModifiedDateTime",))),
    # A contact's event names its company, which is what the contacts flow re-reads.
    WebhookKind("ContactWebhooks", "ContactWebhookFields", "Contacts",
                _model_fields(at.Contact, ("lastModifiedDate", "companyID")), always=("companyID",)),
)


@dataclass
class Registered:
    kind: str
    webhook_id: int
    created: bool
    fields_added: int
    fields_changed: int
    deactivated_duplicates: list[int] = field(default_factory=list)
    not_offered: list[str] = field(default_factory=list)  # fields this tenant does not offer to webhooks


@dataclass(frozen=True)
class WebhookReport:
    kind: str
    webhook_id: int
    name: str
    url: str
    active: bool
    ready: bool
    events: tuple[str, ...]
    subscribed_fields: int
    ours: bool


def same_url(a: str | None, b: str) -> bool:
    return (a or "").strip().rstrip("/").casefold() == b.strip().rstrip("/").casefold()


def _all(client: AutotaskClient, entity: str, query: Query | None = None) -> list[dict[str, Any]]:
    return list(client.query(entity, query or Query([gte("id", 0)])))


def field_ids(client: AutotaskClient, kind: WebhookKind) -> dict[str, int]:
    """Field name (case-folded) -> this tenant's FieldID, from the fieldID picklist."""
    picklist = client.picklist(kind.fields_entity, "fieldID")
    return {label.casefold(): int(value) for value, label in picklist.labels.items()}


def register(client: AutotaskClient, url: str, secret_key: str, *, email: str | None = None) -> list[Registered]:
    """Create or update this stack's Company and Contact webhooks; return what was done for each."""
    if not url.lower().startswith(("https://", "http://")):
        raise ValueError(f"the webhook URL must be absolute (got {url!r})")
    return [_register_one(client, kind, url, secret_key, email) for kind in KINDS]


def _register_one(client: AutotaskClient, kind: WebhookKind, url: str, secret_key: str,
                  email: str | None) -> Registered:
    body: dict[str, Any] = {
        "name": NAME, "webhookUrl": url, "deactivationUrl": url, "secretKey": secret_key, "isActive": True,
        "isSubscribedToCreateEvents": True, "isSubscribedToUpdateEvents": True, "isSubscribedToDeleteEvents": True,
        "sendThresholdExceededNotification": bool(email)}
    if email:
        body["notificationEmailAddress"] = email
    ours = sorted((h for h in _all(client, kind.resource) if same_url(h.get("webhookUrl"), url)),
                  key=lambda h: int(h["id"]))
    if ours:
        hook_id, created = int(ours[0]["id"]), False
        client.patch(kind.resource, {"id": hook_id, **body})
    else:
        hook_id, created = client.create(kind.resource, body), True
    duplicates = []
    for extra in ours[1:]:  # left by an earlier tool or a half-finished run: one webhook per URL is enough
        if extra.get("isActive"):
            client.patch(kind.resource, {"id": int(extra["id"]), "isActive": False})
            duplicates.append(int(extra["id"]))
    added, changed, missing = _subscribe_fields(client, kind, hook_id)
    return Registered(kind.resource, hook_id, created, added, changed, duplicates, missing)


def _subscribe_fields(client: AutotaskClient, kind: WebhookKind, hook_id: int) -> tuple[int, int, list[str]]:
    ids = field_ids(client, kind)
    existing = {int(r["fieldID"]): r for r in _all(client, kind.fields_entity, Query([eq("webhookID", hook_id)]))}
    wanted = [(name, True, False) for name in kind.subscribed] + [(name, False, True) for name in kind.always]
    added = changed = 0
    missing = []
    for name, subscribed, always in wanted:
        field_id = ids.get(name.casefold())
        if field_id is None:
            missing.append(name)
            continue
        row = existing.get(field_id)
        flags = {"isSubscribedField": subscribed or bool(row and row.get("isSubscribedField")),
                 "isDisplayAlwaysField": always or bool(row and row.get("isDisplayAlwaysField"))}
        if row is None:
            client.create(kind.fields_entity, {"fieldID": field_id, **flags}, parent=(kind.resource, hook_id))
            added += 1
        elif any(bool(row.get(k)) != v for k, v in flags.items()):
            client.patch(kind.fields_entity, {"id": int(row["id"]), **flags}, parent=(kind.resource, hook_id))
            changed += 1
    return added, changed, missing


def report(client: AutotaskClient, url: str | None) -> list[WebhookReport]:
    """Every Company and Contact webhook Autotask holds, marking this stack's (by its URL)."""
    rows = []
    for kind in KINDS:
        fields = _all(client, kind.fields_entity)
        for hook in sorted(_all(client, kind.resource), key=lambda h: int(h["id"])):
            hook_id = int(hook["id"])
            events = tuple(event for event in ("Create", "Update", "Delete")
                           if hook.get(f"isSubscribedTo{event}Events"))
            rows.append(WebhookReport(
                kind.resource, hook_id, str(hook.get("name") or ""), str(hook.get("webhookUrl") or ""),
                bool(hook.get("isActive")), bool(hook.get("isReady")), events,
                sum(1 for f in fields if int(f.get("webhookID") or 0) == hook_id and f.get("isSubscribedField")),
                url is not None and same_url(hook.get("webhookUrl"), url)))
    return rows
