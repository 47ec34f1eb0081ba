import pytest

from autoxero.secrets import SecretNotFound, SecretStore


def test_read_write_cache_and_forced_reread(stack):
    client = stack.client("secretsmanager")
    store = SecretStore(client, max_age=300)
    other = SecretStore(client, max_age=300)
    secret_id = stack.physical["XeroSecret"]
    assert store.read(secret_id)["client_id"] == ""
    other.write(secret_id, {"client_id": "abc", "token_set": {"refresh_token": "r1"}})
    assert store.read(secret_id)["client_id"] == ""  # still cached
    assert store.read(secret_id, fresh=True)["client_id"] == "abc"
    store.update(secret_id, {"tenant_id": "t-1"})
    assert other.read(secret_id, fresh=True) == {"client_id": "abc", "token_set": {"refresh_token": "r1"},
                                                  "tenant_id": "t-1"}


def test_missing_and_malformed_secrets_are_clear_errors(stack):
    client = stack.client("secretsmanager")
    store = SecretStore(client)
    with pytest.raises(SecretNotFound, match="does not exist"):
        store.read("nope")
    client.create_secret(Name="bad", SecretString="not json")
    with pytest.raises(ValueError, match="not a JSON document"):
        store.read("bad")
