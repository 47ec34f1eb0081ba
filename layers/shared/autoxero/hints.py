"""Where a person does what a message asks: the console's button first (the finance team works there), then the
command for whoever runs the stack from a terminal. One wording for every message, alert and page."""

from __future__ import annotations

RETRY = "retry it (Retry on the console's Needs attention page, or `autoxero attention retry`)"
RECONNECT = "Reconnect Xero (Reconnect on the console's Overview, or `autoxero connect xero`)"
CONNECT = "connect it (Connect Xero on the console's Overview, or `autoxero connect xero`)"
SUGGEST = "the console's Mappings page, or `autoxero settings suggest`,"
