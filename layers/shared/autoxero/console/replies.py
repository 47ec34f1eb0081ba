"""What every console response carries, and where an action sends the person back to.

The headers are set once, on the way out (app.handle), so that no response escapes them: pages, redirects, the
static files, Powertools' own answers and the error pages alike.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

HSTS = "max-age=31536000; includeSubDomains"
DEFAULT_BACK = "/console/"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def security_headers(login_url: str) -> dict[str, str]:
    """The headers for a console whose sign-in (Cognito's managed login) is at `login_url`.

    The sign-in script exchanges its code at the login domain's token endpoint, so connect-src names exactly
    that origin. Only the local `autoxero console` serves its sign-in over plain http on a loopback port; there
    (and only there) Strict-Transport-Security is left out, since the local server has no TLS.
    """
    login = _origin(login_url)
    headers = {
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                   f"connect-src {' '.join(['\'self\'', *([login] if login else [])])}; "
                                   "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    }
    if not login.startswith("http://"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def secure(reply: dict[str, Any], login_url: str) -> dict[str, Any]:
    """`reply` (an HTTP API payload 2.0 response) with the security headers; a route's own Cache-Control stays."""
    headers = dict(reply.get("headers") or {})
    present = {name.lower() for name in headers}
    for name, value in {**security_headers(login_url), "Cache-Control": "no-store"}.items():
        if name.lower() not in present:
            headers[name] = value
    return {**reply, "headers": headers}


def back(target: str | None, default: str = DEFAULT_BACK) -> str:
    """Where to send the person after an action: a console page (path and query) they named, never elsewhere."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or "\\" in parts.path:
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")
