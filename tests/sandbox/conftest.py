"""The Xero simulator fixtures most sandbox test modules share (a module may override one, e.g. limits)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.xero.testing import XeroSandbox


@pytest.fixture(scope="module")
def server() -> Iterator[XeroSandbox]:
    with XeroSandbox.start() as sandbox:
        yield sandbox


@pytest.fixture
def xero(server: XeroSandbox) -> XeroSandbox:
    server.reset()
    return server


@pytest.fixture
def api(xero: XeroSandbox) -> httpx.Client:
    return xero.client()
