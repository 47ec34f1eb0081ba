"""Who is asking, and may they: the person behind a request, their role, and the CSRF token of their forms.

API Gateway's JWT authorizer has already checked the token's signature, issuer, audience and expiry before a
request reaches the console (template.yaml, ConsoleAuthorizer); it hands the verified claims over in
`requestContext.authorizer.jwt.claims`. The console checks the role again here, on every route, so a route
that forgot its authorizer still refuses.

Array claims arrive as text: the HTTP API JWT authorizer serializes `cognito:groups` as "[operator viewer]"
(measured against API Gateway and reported in aws-solutions-library-samples/guidance-for-claude-code-with-
amazon-bedrock#802 and floci-io/floci#2011); a list is accepted too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["viewer", "operator"]
ROLES: tuple[Role, ...] = ("viewer", "operator")
CSRF_LIFETIME_SECONDS = 12 * 3600


class NotSignedIn(PermissionError):
    """No verified claims: the request did not come through the authorizer."""


class Forbidden(PermissionError):
    """Signed in, but the person's role does not allow this."""


def groups_of(claims: dict[str, Any]) -> tuple[str, ...]:
    raw = claims.get("cognito:groups")
    if raw is None:
        return ()
    if isinstance(raw, list | tuple):
        return tuple(str(g) for g in raw)
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return tuple(part for part in text.replace(",", " ").split() if part)


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    subject: str
    groups: tuple[str, ...]

    @classmethod
    def from_claims(cls, claims: dict[str, Any] | None) -> Person:
        if not claims or not claims.get("sub"):
            raise NotSignedIn("sign in to use the console")
        email = str(claims.get("email") or claims.get("cognito:username") or claims.get("username") or "")
        return cls(email=email, subject=str(claims["sub"]), groups=groups_of(claims))

    @property
    def role(self) -> Role | None:
        if "operator" in self.groups:
            return "operator"
        if "viewer" in self.groups:
            return "viewer"
        return None

    @property
    def can_operate(self) -> bool:
        return self.role == "operator"

    def require(self, role: Role) -> None:
        if self.role is None:
            raise Forbidden(f"{self.email or 'this account'} has no role in this console: ask an operator to "
                            "invite you again (`autoxero users invite EMAIL --role viewer|operator`).")
        if role == "operator" and not self.can_operate:
            raise Forbidden("viewers can look but not change anything: ask an operator to do this, or to make "
                            "you an operator.")


class Csrf:
    """Synchronizer tokens for every form that changes something.

    The console's service worker attaches the bearer token to every request under /console/ — including a form
    a hostile site submits to us — so the Authorization header proves nothing about where a POST came from.
    Each form therefore carries a token only our own pages know: an HMAC, under a per-stack key, of the person's
    subject and an expiry. A POST without a valid one for the same person is refused.
    """

    def __init__(self, key: bytes, clock: Any = time.time) -> None:
        if len(key) < 16:
            raise ValueError("the CSRF key is too short")
        self._key = key
        self._clock = clock

    def _mac(self, subject: str, expires: int) -> str:
        digest = hmac.new(self._key, f"{subject}|{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, person: Person) -> str:
        expires = int(self._clock()) + CSRF_LIFETIME_SECONDS
        return f"{expires}.{self._mac(person.subject, expires)}"

    def check(self, person: Person, token: str | None) -> None:
        expires_text, _, mac = (token or "").partition(".")
        if not expires_text.isdigit() or not mac:
            raise Forbidden("this form is missing its security token: reload the page and try again")
        expires = int(expires_text)
        if not hmac.compare_digest(mac, self._mac(person.subject, expires)):
            raise Forbidden("this form's security token is not valid for you: reload the page and try again")
        if expires < self._clock():
            raise Forbidden("this page has been open too long: reload it and try again")
