"""The console reads the state table in batches: what a batch read parses is what the stores' own reads
return, and the pages name the same flows the flow registry runs."""

from __future__ import annotations

from autoxero.settings import SyncSettings
from autoxero.state import Control, Runs, SettingsStore
from autoxero.state.table import control_key, run_key, settings_key


def _pair(key: dict[str, str]) -> tuple[str, str]:
    return key["pk"], key["sk"]


def test_one_batch_read_parses_to_what_each_store_reads_alone(state, clock):
    state.runs.record("invoices", {"created": 3, "autotask_calls": 12})
    state.control.pause("ops@harbourit.example", "month end")
    settings = SyncSettings.model_validate({"invoices": {"deep_link_template": "https://ww1.autotask.net/i/{id}"}})
    state.settings.save(settings, 0, "ops@harbourit.example")
    state.autotask_quota.note_reading(10_000, 3_400, 1_200, clock())
    quota = state.autotask_quota

    items = state.table.get_many([run_key("invoices"), run_key("contacts"), control_key(), settings_key(),
                                  quota.reading_key, {"pk": "MAP#invoice#404", "sk": "MAP"}])

    assert Runs.parse("invoices", items.get(_pair(run_key("invoices")))) == state.runs.last("invoices")
    assert Runs.parse("contacts", items.get(_pair(run_key("contacts")))) is None  # never ran: not in the answer
    assert Control.parse(items.get(_pair(control_key()))) == state.control.status()
    assert SettingsStore.parse(items.get(_pair(settings_key()))) == state.settings.load()
    assert quota.parse_reading(items.get(_pair(quota.reading_key))) == quota.last_reading()
    assert len(items) == 4


def test_a_batch_of_more_than_a_hundred_keys_reads_every_item(state):
    for flow in range(130):
        state.runs.record(f"flow{flow}", {"n": flow})
    items = state.table.get_many([run_key(f"flow{flow}") for flow in range(130)])
    assert sorted(int(Runs.parse(pk, item)["n"]) for (pk, _), item in items.items()) == list(range(130))


def test_the_console_names_the_flows_the_registry_runs():
    from autoxero.console import FLOWS
    from autoxero.sync.flows import FLOWS as REGISTRY

    assert tuple(REGISTRY) == FLOWS
