"""Connecting Xero from a laptop: the OAuth2 authorization-code flow with a loopback redirect.

The person's own browser signs in to Xero; Xero redirects to http://localhost:PORT/callback, which this
one-shot server answers. The same ConnectService as the XeroConnect function does the checks (setup
token, one-time state) and stores the token set, so both ways to connect behave identically.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

from autoxero.runtime import Runtime
from autoxero.xero.connect import ConnectService, Outcome


def open_browser(url: str) -> None:
    """Replaced in tests by something that follows the URL like a browser would."""
    webbrowser.open(url)


def connect_via_loopback(rt: Runtime, port: int, announce: Callable[[str], None],
                         browser: Callable[[str], None] | None = None, timeout: float = 300) -> Outcome:
    redirect = f"http://localhost:{port}/callback"
    service = ConnectService.from_runtime(rt, redirect_uri=redirect)
    answer: dict[str, Outcome] = {}

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            outcome = service.finish(code=query.get("code"), state=query.get("state"), error=query.get("error"))
            answer["outcome"] = outcome
            self.send_response(outcome.status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(f"{outcome.reason}\nYou can close this window.".encode())

        def log_message(self, *args: object) -> None:  # keep the terminal for the person
            return

    server = HTTPServer(("127.0.0.1", port), Callback)
    server.timeout = timeout
    started = service.start(service.issue_setup_token())
    if started.status != 302 or not started.location:
        server.server_close()
        return started
    announce(f"Opening Xero in your browser; if it does not open, visit:\n  {started.location}")
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    (browser or open_browser)(started.location)
    thread.join(timeout)
    server.server_close()
    return answer.get("outcome") or Outcome(408, "No answer from Xero within the time allowed; nothing changed.")
