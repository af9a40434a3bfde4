"""Repositories: rows <-> core models, each implementing a port of core.ports."""

from storage.repositories.approvals import SqlApprovalStore
from storage.repositories.audit import SqlAuditLog
from storage.repositories.debate import SqlDecisionStore, SqlTurnLog
from storage.repositories.drift import SqlDriftStore
from storage.repositories.history import SqlIncidentHistory
from storage.repositories.incidents import SqlIncidentStore
from storage.repositories.knowledge import SqlKnowledgeStore
from storage.repositories.outbox import SqlOutbox
from storage.repositories.runs import SqlRunStore
from storage.repositories.signing_keys import SqlSigningKeys
from storage.repositories.updates import SqlUpdateLedger

__all__ = [
    "SqlApprovalStore",
    "SqlAuditLog",
    "SqlDecisionStore",
    "SqlDriftStore",
    "SqlIncidentHistory",
    "SqlIncidentStore",
    "SqlKnowledgeStore",
    "SqlOutbox",
    "SqlRunStore",
    "SqlSigningKeys",
    "SqlTurnLog",
    "SqlUpdateLedger",
]
