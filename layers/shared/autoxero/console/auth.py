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
NOTICE_LIFETIME_SECONDS = 300  # an action's outcome, carried by its redirect: shown on arrival, not weeks later
NOTICE_LENGTH = 600


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
            raise Forbidden(f"{self.email or 'this account'} has no role in this console yet: ask your "
                            "administrator to give you access as a viewer or an operator.")
        if role == "operator" and not self.can_operate:
            raise Forbidden("viewers can look but not change anything: ask an operator to do this, or to make "
                            "you an operator.")


def _sign(key: bytes, text: str) -> str:
    """HMAC-SHA256 of `text` under the stack's console key, URL-safe base64 without padding."""
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


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
        return _sign(self._key, f"{subject}|{expires}")

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


class Notices:
    """An action's outcome carried through its redirect (Post/Redirect/Get) in the query string, signed for the
    person under the stack's key, so that a link cannot make the console say something it did not say."""

    def __init__(self, key: bytes, clock: Any = time.time) -> None:
        self._key = key
        self._clock = clock

    def _mac(self, subject: str, body: str) -> str:
        return _sign(self._key, f"notice|{subject}|{body}")

    def seal(self, person: Person, ok: bool, message: str) -> str:
        text = base64.urlsafe_b64encode(message[:NOTICE_LENGTH].encode()).decode().rstrip("=")
        body = f"{int(self._clock()) + NOTICE_LIFETIME_SECONDS}.{int(ok)}.{text}"
        return f"{body}.{self._mac(person.subject, body)}"

    def open(self, person: Person, sealed: str) -> tuple[bool, str] | None:
        """(ok, message), or None when the notice is not this console's, not for this person, or too old."""
        body, _, mac = sealed.rpartition(".")
        expires, ok, text = [*body.split("."), "", "", ""][:3]
        if not mac or not hmac.compare_digest(mac, self._mac(person.subject, body)):
            return None
        if not expires.isdigit() or int(expires) < self._clock():
            return None
        try:
            return ok == "1", base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        except ValueError:
            return None
