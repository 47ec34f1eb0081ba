"""The Xero simulator of the local sandbox: identity service, Accounting API, webhooks and a control API.

    from sandbox.core import SandboxClock, serve_in_thread
    from sandbox.xero import XeroSimulator, create_app

    sim = XeroSimulator(SandboxClock())
    sim.load(fixture)                       # the "xero" section, or the whole fixture with sandbox creds
    server = serve_in_thread(create_app(sim))

See README.md in this folder for what is simulated and what is knowingly left out.
"""

from .app import create_app
from .simulator import XeroSimulator

__all__ = ["XeroSimulator", "create_app"]
