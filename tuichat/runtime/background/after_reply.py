"""The background tasks after a reply, in Open WebUI 0.12.4's order (utils/middleware.py:
background_tasks_handler): follow-ups after every reply, then the title and tags after a
chat's first exchange (the web page asks for those two only then). Each result is stored
as it comes and yielded, so a front end shows it at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from tuichat.runtime.background.follow_ups import generate_follow_ups
from tuichat.runtime.background.prompt import task_messages
from tuichat.runtime.background.tags import generate_tags
from tuichat.runtime.background.titles import generate_title
from tuichat.runtime.host import PipeHost
from tuichat.store import ChatRow


@dataclass(frozen=True, slots=True)
class FollowUps:
    message_id: str
    suggestions: list[str]


@dataclass(frozen=True, slots=True)
class Titled:
    chat: ChatRow


@dataclass(frozen=True, slots=True)
class Tagged:
    chat_id: str
    tags: list[str]


Outcome = FollowUps | Titled | Tagged


async def after_reply(
    host: PipeHost, chat_id: str, reply_id: str, model_id: str, *, first_exchange: bool
) -> AsyncIterator[Outcome]:
    """Run the enabled tasks for the stored reply `reply_id`; only what a task produced is
    yielded (a task that is off, fails or answers nothing usable yields nothing)."""
    store = host.store
    messages = task_messages(await store.chats.messages(chat_id))
    suggestions = await generate_follow_ups(host, chat_id, reply_id, model_id, messages)
    if suggestions and await store.chats.set_follow_ups(reply_id, suggestions):
        yield FollowUps(reply_id, suggestions)
    if not first_exchange:
        return
    title = await generate_title(host, chat_id, model_id, messages)
    if title:
        yield Titled(await store.chats.rename(chat_id, title))
    tags = await generate_tags(host, chat_id, model_id, messages)
    if tags is not None:
        tags = await store.tags.set(chat_id, tags)
        yield Tagged(chat_id, tags)
