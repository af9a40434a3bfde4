"""The composition root: settings -> engine -> repositories -> services -> Telegram and HTTP.

`run_howl` runs everything in one asyncio loop: uvicorn serving the HTTP app,
python-telegram-bot's long polling and job queue, and the delivery worker. The
HTTP intake works even while Telegram is unreachable; deliveries wait in the
outbox until it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import structlog
import uvicorn
from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler

from bot.context import SERVICES_KEY
from bot.debates import DebateRuntime, DecisionCards, build_runtime
from bot.delivery import DeliveryWorker
from bot.drift import DriftRuntime, build_scanner, check_cron, schedule_drift
from bot.handlers import approvals as approval_handlers
from bot.handlers import callbacks, chat, commands
from bot.handlers import debate as debate_handlers
from bot.handlers import drift as drift_handlers
from bot.handlers import incidents as incident_handlers
from bot.handlers import knowledge as knowledge_handlers
from bot.handlers import runs as run_handlers
from bot.handlers.catalog import CATALOG
from bot.handlers.common import allowed_chats_only, once_per_update
from bot.handlers.errors import on_error
from bot.http.app import build_http_app
from bot.keyboards import CallbackCodec
from bot.knowledge import ChatKnowledgeCards
from bot.metrics import Metrics
from bot.playground.botapi import BotApiEmulator
from bot.playground.page import TEAMMATE_ID
from bot.playground.server import create_emulator_app
from bot.render.incident import SilenceLink, card_key, incident_card
from bot.render.renotify import render_renotify
from bot.services import Services
from core.actions import ActionRegistry, Executor, SubprocessRunner
from core.actions.executor import ActionResult
from core.alerting.alertmanager import AlertmanagerSilences
from core.alerting.grouping import Grouping
from core.alerting.intake_queue import IntakeQueue
from core.alerting.ports import CardMaker
from core.alerting.publisher import CardPublisher
from core.alerting.renotify import Renotifier, RenotifyPolicy
from core.alerting.retention import keep_alerts
from core.alerting.service import IncidentService
from core.alerting.silences import SilenceMirror
from core.approval_flow import ApprovalFlow, FlowSettings
from core.chat.service import ChatService
from core.config import PLAYGROUND_USER_ID, Settings
from core.debate.evidence import EvidenceBuilder
from core.debate.models import DecisionPackage
from core.debate.prometheus import PrometheusMetrics
from core.drift.config import check_drift, drift_config
from core.errors import ConfigError
from core.knowledge.models import ExecutionOutcome
from core.knowledge.service import KnowledgeService
from core.knowledge.settings import anti_pattern_window
from core.knowledge.source import StoredKnowledge
from core.llm.router import build_router
from core.ports import SystemClock
from core.redact import Redactor
from core.run_worker import worker_owner
from storage.db import create_engine, describe_db_error, dispose, session_factory
from storage.migrate import upgrade
from storage.repositories import (
    SqlApprovalStore,
    SqlAuditLog,
    SqlDecisionStore,
    SqlDriftStore,
    SqlIncidentHistory,
    SqlIncidentStore,
    SqlKnowledgeStore,
    SqlOutbox,
    SqlRunStore,
    SqlSigningKeys,
    SqlTurnLog,
    SqlUpdateLedger,
)

log = structlog.get_logger(__name__)

PLAYGROUND_TOKEN = "7000001:playground-token-local-only"
#: long-poll length; short enough that a stop never waits long for the poll to end
POLL_TIMEOUT = timedelta(seconds=10)
HOUSEKEEPING_EVERY = timedelta(hours=1)
KEEP_HISTORY = timedelta(days=7)
#: the signing_keys row whose key signs every button's callback data
BUTTONS_KEY = "buttons"
RETENTION_EVERY = timedelta(days=1)
RETENTION_JOB = "alert_retention"


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process's stop event rules."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def load_buttons_key(engine: Any) -> bytes:
    """The button-signing key from the database, generated there on first run."""
    return await SqlSigningKeys(session_factory(engine), SystemClock()).get_or_create(BUTTONS_KEY)


def build_services(settings: Settings, engine: Any, *, mode: str, buttons_key: bytes) -> Services:
    """Repositories and services over one engine."""
    clock = SystemClock()
    sessions = session_factory(engine)
    outbox = SqlOutbox.over(sessions, clock)
    alert_chat_id = settings.effective_alert_chat_id()
    config = settings.howl_config()
    store = SqlIncidentStore(sessions, outbox.cards, clock)
    buttons = CallbackCodec(buttons_key)
    # shadow mode acts nowhere: no Alertmanager silences either
    silence_api = (
        AlertmanagerSilences(settings.alertmanager_url)
        if settings.alertmanager_url and not settings.shadow
        else None
    )
    mirror = SilenceMirror(store, clock, silence_api) if silence_api is not None else None
    cards = CardPublisher(
        store,
        _card_maker(
            alert_chat_id,
            buttons,
            shadow=settings.shadow,
            silence_link=silence_api.link if silence_api is not None else None,
        ),
    )
    debates: list[DebateRuntime] = []  # made below: it posts through the incident service
    incidents = IncidentService(
        store,
        clock,
        grouping=Grouping.from_config(config),
        on_change=cards.poke,
        on_open=lambda opened: debates[0].scheduler.opened(opened),
        silences=mirror,
    )
    llm = build_router(settings, config)
    runs = SqlRunStore(sessions, clock)
    turns, decisions = SqlTurnLog(sessions), SqlDecisionStore(sessions)
    prometheus = PrometheusMetrics(settings.prometheus_url) if settings.prometheus_url else None
    redactor = Redactor(settings.secret_values())
    window = anti_pattern_window(config)
    knowledge_store = SqlKnowledgeStore(sessions)
    evidence = EvidenceBuilder(
        SqlIncidentHistory(sessions),
        StoredKnowledge(knowledge_store, clock, window=window),
        prometheus,
        clock,
        redactor,
    )
    knowledge = KnowledgeService(
        knowledge_store,
        ChatKnowledgeCards(
            outbox.cards, buttons, chat_id=alert_chat_id, shadow=settings.shadow, window=window
        ),
        llm,
        clock,
        anti_pattern_window=window,
        redactor=redactor,
    )
    cards_of_decisions = DecisionCards(
        incidents, outbox.cards, buttons, chat_id=alert_chat_id, shadow=settings.shadow
    )
    registry = ActionRegistry.from_config(config)
    audit = SqlAuditLog(sessions)
    approvals = ApprovalFlow(
        approvals=SqlApprovalStore(sessions),
        runs=runs,
        decisions=decisions,
        registry=registry,
        executor=Executor(registry, SubprocessRunner(), redactor=redactor),
        audit=audit,
        clock=clock,
        settings=FlowSettings(
            approvers=settings.effective_approver_ids(),
            ttl=timedelta(seconds=settings.approval_ttl_s),
            autopilot=settings.autopilot,
            shadow=settings.shadow,
        ),
        redactor=redactor,
        post=cards_of_decisions,
        owner=worker_owner("executor"),
        learn=_learner(incidents, knowledge),
    )
    debates.append(
        build_runtime(
            runs=runs,
            turns=turns,
            decisions=decisions,
            evidence=evidence,
            completer=llm,
            tools=registry.tools(),
            clock=clock,
            ceiling_s=settings.debate_timeout_s,
            announce=approvals.announce,
            on_card_change=cards.poke,
            on_settled=approvals.settled,
            autopilot=settings.autopilot,
        )
    )
    chat = ChatService(
        incidents,
        llm,
        runs,
        decisions,
        registry.tools(),
        clock=clock,
        # the chat's runs are worked by the debate workers (see core/chat/service.py)
        wake=lambda: debates[0].wake(),
        autopilot=settings.autopilot,
        redact=redactor.redact,
    )
    drift = DriftRuntime(
        build_scanner(
            drift_config(config),
            completer=llm,
            store=SqlDriftStore(sessions, clock),
            clock=clock,
            redactor=redactor,
        ),
        cards=outbox.cards,
        buttons=buttons,
        chat_id=alert_chat_id,
        shadow=settings.shadow,
    )
    policy = RenotifyPolicy.from_config(config)
    renotifier = (
        Renotifier(
            store,
            clock,
            policy=policy,
            chat_id=alert_chat_id,
            cards=outbox.cards,
            outbox=outbox.queue,
            render=render_renotify,
            card_key=card_key,
        )
        if policy.enabled and alert_chat_id is not None and not settings.shadow
        else None
    )
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        incidents=incidents,
        intake=IntakeQueue(incidents),
        cards=cards,
        buttons=buttons,
        llm=llm,
        outbox=outbox.queue,
        delivery=outbox.queue,
        digests=outbox.digests,
        runs=runs,
        turns=turns,
        decisions=decisions,
        debates=debates[0],
        approvals=approvals,
        audit=audit,
        chat=chat,
        knowledge=knowledge,
        drift=drift,
        ledger=SqlUpdateLedger(sessions, clock),
        metrics=Metrics(),
        started_at=clock.now(),
        mode=mode,
        alert_chat_id=alert_chat_id,
        allowed_chat_ids=settings.effective_allowed_chat_ids(),
        renotifier=renotifier,
        silence_api=silence_api,
        prometheus=prometheus,
    )


def _learner(
    incidents: IncidentService, knowledge: KnowledgeService
) -> Callable[[DecisionPackage, ActionResult, tuple[str, ...], datetime], Awaitable[None]]:
    """After an action ran: a runbook draft or an anti-pattern, written in the background."""

    async def learn(
        package: DecisionPackage, result: ActionResult, by: tuple[str, ...], at: datetime
    ) -> None:
        view = await incidents.find(package.incident_id)
        if view is None:
            return
        knowledge.on_execution(
            ExecutionOutcome(
                incident=view.incident,
                package=package,
                result=result,
                approved_by=by,
                approved_at=at,
            )
        )

    return learn


def _card_maker(
    chat_id: int | None,
    buttons: CallbackCodec,
    *,
    shadow: bool,
    silence_link: SilenceLink = None,
) -> CardMaker:
    """Incident cards go to the alert chat; with none set (or in shadow mode) nowhere."""
    if chat_id is None or shadow:
        if chat_id is None:
            log.warning("no_alert_chat", hint="set HOWL_ALERT_CHAT_ID to post incident cards")
        return lambda _view: None
    return lambda view: incident_card(
        view, chat_id=chat_id, buttons=buttons, silence_link=silence_link
    )


def build_application(services: Services, *, token: str, base_url: str) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot application with every handler wired."""
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .rate_limiter(AIORateLimiter(max_retries=0))
        .concurrent_updates(True)
        .build()
    )
    application.bot_data[SERVICES_KEY] = services
    application.add_handler(TypeHandler(Update, allowed_chats_only), group=-2)
    application.add_handler(TypeHandler(Update, once_per_update), group=-1)
    commands.register(application)
    # unknown commands and messages to the bot: a group of their own, after every command
    chat.register(application)
    # --- capability handlers (each issue registers its own here) ---
    incident_handlers.register(application)
    callbacks.register(application)
    approval_handlers.register(application)
    run_handlers.register(application)
    debate_handlers.register(application)
    knowledge_handlers.register(application)
    drift_handlers.register(application)
    application.add_error_handler(on_error)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        _housekeeping, interval=HOUSEKEEPING_EVERY, first=timedelta(minutes=1), name="housekeeping"
    )
    application.job_queue.run_repeating(
        run_handlers.reap_runs, interval=run_handlers.REAP_EVERY, name="reap-runs"
    )
    application.job_queue.run_repeating(
        approval_handlers.sweep_approvals,
        interval=approval_handlers.sweep_every(services.settings.approval_ttl_s),
        first=timedelta(seconds=1),
        name="approval-expiry",
    )
    application.job_queue.run_repeating(
        run_handlers.catch_up_debates,
        interval=run_handlers.CATCH_UP_EVERY,
        first=run_handlers.CATCH_UP_EVERY,
        name="debate-catch-up",
    )
    application.job_queue.run_repeating(
        _prune_alert_history,
        interval=RETENTION_EVERY,
        first=timedelta(minutes=10),
        name=RETENTION_JOB,
        data=keep_alerts(services.settings.howl_config()),
    )
    schedule_drift(application.job_queue, services.drift, drift_handlers.scan_drift)
    return application


async def _housekeeping(context: Any) -> None:
    """Forget old processed updates and delivered outbox rows."""
    services: Services = context.bot_data[SERVICES_KEY]
    before = services.clock.now() - KEEP_HISTORY
    updates = await services.ledger.prune(before=before)
    sent = await services.outbox.prune(before=before)
    log.info("housekeeping", pruned_updates=updates, pruned_outbox=sent)


async def _prune_alert_history(context: Any) -> None:
    """Daily: forget the alert history of incidents resolved longer ago than `keep_alerts`."""
    services: Services = context.bot_data[SERVICES_KEY]
    pruned = await services.incidents.prune_history(context.job.data)
    log.info("alert_history_pruned", alerts=pruned.alerts, states=pruned.states)


def build_playground(chat_ids: frozenset[int]) -> BotApiEmulator:
    """The emulated world: the on-call group, you (an approver) and a teammate."""
    emulator = BotApiEmulator(token=PLAYGROUND_TOKEN)
    emulator.add_user(PLAYGROUND_USER_ID, "You", username="you")
    emulator.add_user(TEAMMATE_ID, "Teammate", username="teammate")
    for chat_id in sorted(chat_ids):
        emulator.add_chat(chat_id, title="On-call")
    return emulator


def bind_socket(settings: Settings) -> socket.socket:
    """Bind the HTTP port up front so a busy port is one clear error."""
    family = socket.AF_INET6 if ":" in settings.http_host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only
    # then; without it every small answer can wait ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.http_host, settings.http_port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"HOWL_HTTP_LISTEN={settings.http_listen}: cannot listen: {exc.strerror}"
        ) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class TelegramSide:
    """Connects to the Bot API (retrying while it is down), then polls and delivers."""

    def __init__(self, application: Application, services: Services) -> None:  # type: ignore[type-arg]
        self.application = application
        self.services = services
        self.worker = DeliveryWorker(
            services.delivery,
            services.digests,
            application.bot,
            clock=services.clock,
            metrics=services.metrics,
        )
        self.started = asyncio.Event()

    async def start(self) -> None:
        """Initialise (getMe) with backoff; an invalid token is fatal."""
        delay = 1.0
        while True:
            try:
                await self.application.initialize()
                break
            except InvalidToken:
                raise ConfigError(
                    "TELEGRAM_BOT_TOKEN: the Bot API rejected the token "
                    f"(at {self.services.settings.telegram_api_base_url})"
                ) from None
            except (NetworkError, TelegramError) as exc:
                log.warning("telegram_unreachable", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        await self._set_commands()
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
        )
        await self.worker.start()
        self.started.set()
        log.info("telegram_started", bot=self.application.bot.username)

    async def _set_commands(self) -> None:
        built = commands.registered_commands(self.application)
        listed = [BotCommand(c.name, c.description) for c in CATALOG if c.name in built]
        try:
            await self.application.bot.set_my_commands(listed)
        except TelegramError as exc:
            log.warning("set_my_commands_failed", error=str(exc))

    def polling(self) -> bool:
        updater = self.application.updater
        return bool(updater is not None and updater.running)

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        if self.worker.running:
            await self.worker.stop()
        if self.started.is_set():
            await self.application.shutdown()


async def check_config(settings: Settings) -> None:
    """A missing or broken HOWL_CONFIG stops us before anything starts (no database, no socket)."""
    config = settings.howl_config()
    Grouping.from_config(config)
    RenotifyPolicy.from_config(config)
    keep_alerts(config)
    anti_pattern_window(config)
    ActionRegistry.from_config(config).check_binaries()
    check_cron(check_drift(config))
    await build_router(settings, config).aclose()


async def run_howl(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Run until `stop` is set (or SIGINT/SIGTERM arrives); returns the exit code."""
    settings.check_can_listen()
    await check_config(settings)
    engine = create_engine(settings.database_url)
    try:
        try:
            await upgrade(engine)
        except Exception as exc:
            raise ConfigError(
                f"HOWL_DATABASE_URL: cannot migrate: {describe_db_error(exc)}"
            ) from None
        return await _serve(settings, engine, stop or asyncio.Event())
    finally:
        await dispose(engine)


async def _serve(settings: Settings, engine: Any, stop: asyncio.Event) -> int:
    sock = bind_socket(settings)
    port = sock.getsockname()[1]
    services = build_services(
        settings,
        engine,
        mode="playground" if settings.playground else "telegram",
        buttons_key=await load_buttons_key(engine),
    )
    emulator = (
        build_playground(services.allowed_chat_ids | {services.alert_chat_id or 0} - {0})
        if settings.playground
        else None
    )
    if emulator is not None:
        token, base_url = PLAYGROUND_TOKEN, f"http://127.0.0.1:{port}/tg/bot"
    else:
        token = settings.telegram_bot_token.get_secret_value()
        base_url = settings.telegram_api_base_url
    application = build_application(services, token=token, base_url=base_url)
    telegram_side = TelegramSide(application, services)
    services.poller_running = telegram_side.polling
    http_app = build_http_app(
        services, emulator=create_emulator_app(emulator) if emulator is not None else None
    )
    server = EmbeddedServer(
        uvicorn.Config(http_app, log_config=None, lifespan="off", timeout_graceful_shutdown=2)
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    services.cards.start()
    await services.debates.start()
    server_task = asyncio.create_task(server.serve(sockets=[sock]), name="howl-http")
    telegram_task = asyncio.create_task(telegram_side.start(), name="howl-telegram")
    stop_task = asyncio.create_task(stop.wait(), name="howl-stop")
    log.info("howl_started", mode=services.mode, http=f"http://{settings.http_host}:{port}")
    log.info("settings", **settings.summary())
    if unused := settings.not_used_yet():
        log.warning(
            "settings_not_used_yet", settings=unused, hint="accepted; nothing reads them yet"
        )
    if emulator is not None:
        log.info("playground_ready", url=f"http://127.0.0.1:{port}/playground")
    try:
        failure = await _until_stop_or_failure(server_task, telegram_task, stop_task)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await _shutdown(
            telegram_side,
            telegram_task,
            server,
            server_task,
            stop_task,
            on_http_stop=emulator.close if emulator is not None else None,
        )
        await services.intake.close()
        await services.debates.stop()
        await services.knowledge.drain()
        await services.cards.stop()
        await services.llm.aclose()
        if services.prometheus is not None:
            await services.prometheus.aclose()
        if services.silence_api is not None:
            await services.silence_api.aclose()
        sock.close()
    if failure is not None:
        raise failure
    log.info("howl_stopped")
    return 0


async def _until_stop_or_failure(
    server_task: asyncio.Task[None],
    telegram_task: asyncio.Task[None],
    stop_task: asyncio.Task[bool],
) -> BaseException | None:
    """Wait for a stop request, a fatal Telegram error, or the HTTP server dying."""
    waiting: set[asyncio.Task[Any]] = {server_task, telegram_task, stop_task}
    while True:
        done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if stop_task in done:
            return None
        if server_task in done:
            return server_task.exception() or ConfigError("the HTTP server stopped unexpectedly")
        if telegram_task in done and telegram_task.exception() is not None:
            return telegram_task.exception()


async def _shutdown(
    telegram_side: TelegramSide,
    telegram_task: asyncio.Task[None],
    server: EmbeddedServer,
    server_task: asyncio.Task[None],
    stop_task: asyncio.Task[bool],
    on_http_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    if not telegram_task.done():
        telegram_task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await telegram_task
    try:
        await asyncio.wait_for(telegram_side.stop(), timeout=3.0)
    except Exception:
        log.exception("telegram_stop_failed")
    if on_http_stop is not None:
        await on_http_stop()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(server_task, timeout=3.0)
    stop_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stop_task
