"""Everything the handlers and HTTP routes use, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.debates import DebateRuntime
from bot.drift import DriftRuntime
from bot.keyboards import CallbackCodec
from bot.metrics import Metrics
from core.alerting.alertmanager import AlertmanagerSilences
from core.alerting.intake_queue import IntakeQueue
from core.alerting.publisher import CardPublisher
from core.alerting.renotify import Renotifier
from core.alerting.service import IncidentService
from core.approval_flow import ApprovalFlow
from core.chat.service import ChatService
from core.config import Settings
from core.debate.ports import DecisionStore, TurnLog
from core.debate.prometheus import PrometheusMetrics
from core.knowledge.service import KnowledgeService
from core.llm.router import Router
from core.ports import AuditLog, Clock, DeliveryQueue, Outbox, StormDigests, UpdateLedger
from core.runs import RunStore


@dataclass
class Services:
    """The process's wiring. Handlers reach it through `context.bot_data["services"]`
    (see bot/context.py) and routes through `request.app.state.services`."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    #: replies to people, and the delivery counts /status and /metrics show
    outbox: Outbox
    #: what the delivery worker drains, and where it folds a storm's new cards
    delivery: DeliveryQueue
    digests: StormDigests
    ledger: UpdateLedger
    metrics: Metrics
    started_at: datetime
    #: "telegram" or "playground"
    mode: str
    #: the alert chat, resolved (the playground's group when none is set)
    alert_chat_id: int | None
    allowed_chat_ids: frozenset[int]
    incidents: IncidentService
    #: alert intake with group commit (see core/alerting/intake_queue.py)
    intake: IntakeQueue
    #: renders and queues incident cards after each committed change
    cards: CardPublisher
    #: signs and checks every button's callback data (key kept in the database)
    buttons: CallbackCodec
    #: the one door to the models (providers, routes, contracts)
    llm: Router
    #: runs of work per incident trigger, leased to workers (see core/runs.py)
    runs: RunStore
    #: every agent turn of every debate, insert-only (see storage/repositories/debate.py)
    turns: TurnLog
    #: each run's decision package, one per run; the incident's latest for its view
    decisions: DecisionStore
    #: debate workers, their scheduler and the decision cards (see bot/debates.py)
    debates: DebateRuntime
    #: approval requests, presses, expiry, execution and their audit (core/approval_flow.py)
    approvals: ApprovalFlow
    #: the append-only audit log (GET /api/audit)
    audit: AuditLog
    #: messages to the bot in words: questions answered, requests made decision cards
    chat: ChatService
    #: runbooks and anti-patterns learned from executions (see core/knowledge/service.py)
    knowledge: KnowledgeService
    #: the drift scanner ([drift] in HOWL_CONFIG), its schedule's job and its cards
    drift: DriftRuntime
    #: announces unacknowledged incidents again ([incidents] renotify_after); None: off
    renotifier: Renotifier | None = None
    #: Alertmanager's silence API (HOWL_ALERTMANAGER_URL), closed at shutdown; None: not set
    silence_api: AlertmanagerSilences | None = None
    #: Prometheus for evidence queries (HOWL_PROMETHEUS_URL), closed at shutdown; None: not set
    prometheus: PrometheusMetrics | None = None
    #: True while the Telegram poller runs (readiness)
    poller_running: Callable[[], bool] = lambda: False
