"""The Xero adapter: the official xero-python SDK, wrapped with timeouts, retries, batching and tokens."""
