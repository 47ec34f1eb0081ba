"""DynamoDB state: cursors, id maps, the ledger, the attention list, leases, settings and runs."""

from __future__ import annotations

from dataclasses import dataclass

from autoxero.state.approvals import Approvals, OpenApproval
from autoxero.state.attention import Attention, AttentionItem, SkippedRecord
from autoxero.state.cache import Cache, CacheEntry
from autoxero.state.control import Control, ControlStatus, ResumeRefused
from autoxero.state.cursors import CursorRegression, Cursors
from autoxero.state.idmap import Identity, IdMap, MapEntry, MapExtra, MapStatus, Recorded
from autoxero.state.leases import LeaseBusy, LeaseLost, Leases
from autoxero.state.ledger import Ledger, LedgerEntry, LedgerLine
from autoxero.state.quota import RequestQuota
from autoxero.state.reference_cache import ReferenceCache
from autoxero.state.runs import Runs
from autoxero.state.settings_store import SettingsConflict, SettingsStore
from autoxero.state.table import StateError, StateTable

__all__ = ["Approvals", "Attention", "AttentionItem", "Cache", "CacheEntry", "Control", "ControlStatus",
           "CursorRegression", "Cursors", "IdMap", "Identity", "LeaseBusy", "LeaseLost", "Leases", "Ledger",
           "LedgerEntry", "LedgerLine", "MapEntry", "MapExtra", "MapStatus", "OpenApproval", "Recorded",
           "ReferenceCache", "RequestQuota", "ResumeRefused", "Runs", "SettingsConflict", "SettingsStore",
           "SkippedRecord", "State", "StateError", "StateTable"]


@dataclass
class State:
    """Every state store over one table: what a flow is handed."""

    table: StateTable
    cursors: Cursors
    ids: IdMap
    ledger: Ledger
    attention: Attention
    leases: Leases
    settings: SettingsStore
    runs: Runs
    cache: Cache
    control: Control
    autotask_quota: RequestQuota
    xero_reference: ReferenceCache
    approvals: Approvals

    @classmethod
    def over(cls, table: StateTable, ledger_retention_days: int = 400) -> State:
        return cls(table=table, cursors=Cursors(table), ids=IdMap(table),
                   ledger=Ledger(table, ledger_retention_days), attention=Attention(table),
                   leases=Leases(table), settings=SettingsStore(table), runs=Runs(table),
                   cache=Cache(table), control=Control(table), autotask_quota=RequestQuota(table, "autotask"),
                   xero_reference=ReferenceCache(table), approvals=Approvals(table))
