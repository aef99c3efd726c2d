"""The Telegram bot: python-telegram-bot handlers over bots.commands.

Handlers follow PTB's examples/echobot.py. Every handler answers private chats
only: a group chat matches no handler and gets nothing. Each update id is handled
once (a replayed webhook delivery is dropped before any handler runs). Replies are
sent with HTML parse mode and every piece of text is HTML-escaped first.

In a web process the bot runs on an event loop of its own thread (`BotRunner`),
so Flask request threads hand it updates without each making a new loop.
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bots import commands, replies
from bots.commands import ChatSettings, Reply
from plans import chat

logger = logging.getLogger(__name__)

T = TypeVar("T")
PRIVATE = filters.ChatType.PRIVATE
MAX_TEXT = 4000  # Telegram's limit is 4096 characters per message
ALLOWED_UPDATES = ["message", "callback_query"]


def _sessions(context: ContextTypes.DEFAULT_TYPE) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = context.bot_data["sessions"]
    return factory


def _settings(context: ContextTypes.DEFAULT_TYPE) -> ChatSettings:
    settings: ChatSettings = context.bot_data["settings"]
    return settings


NEAR_ME_LABEL = "Plans near me"


def _markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.ask_location:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(NEAR_ME_LABEL, request_location=True)]],
            resize_keyboard=True,
        )
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in reply.buttons]
    )


def _answer_text(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: str,
    text: str,
    *,
    lat: float | None = None,
    lon: float | None = None,
) -> Reply | None:
    """Run one message through the commands in a transaction of its own."""
    with _sessions(context)() as session:
        if lat is not None and lon is not None:
            reply = _near_me(session, chat_id, lat, lon, _settings(context))
        else:
            reply = commands.handle_text(
                session,
                channel="telegram",
                address=chat_id,
                text=text,
                settings=_settings(context),
            )
        session.commit()
        return reply


def _near_me(
    session: Session, chat_id: str, lat: float, lon: float, settings: ChatSettings
) -> Reply | None:
    if not chat.allow_message(session, "telegram", chat_id):
        return None
    link = chat.active_link(session, "telegram", chat_id)
    if link is None:
        return Reply(replies.NOT_LINKED)
    # commands.find asks the domain, which refuses anyone but a responder.
    return commands.find(session, link, "", settings=settings, lat=lat, lon=lon)


async def _send(update: Update, reply: Reply | None) -> None:
    message = update.effective_message
    if reply is None or message is None:
        return
    await message.reply_text(
        html.escape(reply.text[:MAX_TEXT]),
        parse_mode=ParseMode.HTML,
        reply_markup=_markup(reply),
        disable_web_page_preview=True,
    )


async def _run(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    chat_obj = update.effective_chat
    if chat_obj is None or chat_obj.type != ChatType.PRIVATE:
        return
    reply = await asyncio.to_thread(_answer_text, context, str(chat_obj.id), text)
    await _send(update, reply)


async def once(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop an update whose id was handled before (a replayed delivery)."""

    def claim() -> bool:
        with _sessions(context)() as session:
            fresh = chat.claim_message(session, "telegram", str(update.update_id))
            session.commit()
            return fresh

    if not await asyncio.to_thread(claim):
        raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link this chat with a one-time token, or greet a linked chat."""
    token = " ".join(context.args or [])
    await _run(update, context, f"start {token}".strip())


async def find(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Search live plans: /find <words> [near <place>]."""
    await _run(update, context, "find " + " ".join(context.args or []))


async def open_plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open a listed plan: /open <number> attending [incident no.]."""
    await _run(update, context, "open " + " ".join(context.args or []))


async def plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the person their own plan summary and their mentors' numbers."""
    await _run(update, context, "plan")


async def opened(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn 'my plan was opened' messages on or off: /opened on|off."""
    await _run(update, context, "opened " + " ".join(context.args or []))


async def unlink(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unlink this chat from its account."""
    await _run(update, context, "unlink")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List what this chat can do."""
    await _run(update, context, "help")


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer typed commands without a slash, as on SMS: find ..., open 2 ..."""
    message = update.effective_message
    await _run(update, context, message.text if message and message.text else "")


async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Find plans near a shared location."""
    chat_obj = update.effective_chat
    message = update.effective_message
    if chat_obj is None or message is None or message.location is None:
        return
    reply = await asyncio.to_thread(
        _answer_text,
        context,
        str(chat_obj.id),
        "",
        lat=message.location.latitude,
        lon=message.location.longitude,
    )
    await _send(update, reply)


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open the plan behind a tapped result button (the tap states the reason)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    _, number, reason = str(query.data).split(":", 2)
    await _run(update, context, f"open {number} {reason}")


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error first, without the update (it holds message text)."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error(
        "telegram handler failed on update %s: %s",
        update_id,
        type(context.error).__name__,
        exc_info=context.error,
    )
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(
                "Sorry, something went wrong. Please try again."
            )
        except Exception:  # noqa: BLE001  the error is already logged
            logger.warning("could not tell the chat about the error")


def _level(name: str) -> int:
    return logging.getLogger(name).level


def build_application(
    token: str,
    *,
    sessions: sessionmaker[Session],
    settings: ChatSettings,
    request: BaseRequest | None = None,
    polling: bool = False,
) -> Application:  # type: ignore[type-arg]
    """Build the bot with every handler; `request` replaces the network in tests."""
    # PTB logs API parameters (message text) at DEBUG, and httpx logs each URL,
    # which carries the bot token, at INFO: keep both out of every log.
    logging.getLogger("telegram").setLevel(max(logging.INFO, _level("telegram")))
    logging.getLogger("httpx").setLevel(max(logging.WARNING, _level("httpx")))
    builder = Application.builder().token(token)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["sessions"] = sessions
    application.bot_data["settings"] = settings
    application.add_handler(TypeHandler(Update, once), group=-1)
    for name, callback in (
        ("start", start),
        ("find", find),
        ("open", open_plan),
        ("plan", plan),
        ("opened", opened),
        ("unlink", unlink),
        ("help", help_command),
    ):
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    application.add_handler(MessageHandler(PRIVATE & filters.LOCATION, location))
    application.add_handler(
        CallbackQueryHandler(choose, pattern=r"^open:[0-9]{1,2}:[a-z]{1,12}$")
    )
    application.add_handler(
        MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, text)
    )
    application.add_error_handler(error_handler)
    return application


class BotRunner:
    """Run one initialised Application on an event loop in its own thread."""

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.application = application
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="telegram-bot", daemon=True
        )
        self._thread.start()
        self._started = False
        self._lock = threading.Lock()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the bot's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

    def _ensure_started(self) -> None:
        with self._lock:
            if not self._started:
                self.run(self.application.initialize())
                self._started = True

    def process(self, data: dict[str, Any]) -> None:
        """Hand one webhook update (its JSON) to the bot and wait until handled."""
        self._ensure_started()
        update = Update.de_json(data, self.application.bot)
        self.run(self.application.process_update(update))

    def send(self, chat_id: str, text_out: str) -> None:
        """Send one plain message (notifications), HTML-escaped."""
        self._ensure_started()
        self.run(
            self.application.bot.send_message(
                chat_id=int(chat_id),
                text=html.escape(text_out[:MAX_TEXT]),
                parse_mode=ParseMode.HTML,
                disable_web_page_preview=True,
            )
        )

    def set_webhook(self, url: str, secret: str) -> bool:
        """Register the webhook URL and secret with Telegram."""
        self._ensure_started()
        return bool(
            self.run(
                self.application.bot.set_webhook(
                    url=url,
                    secret_token=secret,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                )
            )
        )

    def close(self) -> None:
        """Shut the bot down and stop its loop."""
        if self._loop.is_closed():
            return
        if self._started:
            self.run(self.application.shutdown())
            self._started = False
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
