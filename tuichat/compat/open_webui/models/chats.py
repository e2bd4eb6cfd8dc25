"""`open_webui.models.chats`: `Chats`, read from tuichat's chat and message tables.

A chat comes back shaped as Open WebUI stores it: `ChatModel.chat` holds the
title, the message tree (`history.messages` by id, and `currentId`) and the
current branch as a list (`messages`), which is what pipes read. Of the writes,
only the title is supported. Methods work awaited or called directly; see
`open_webui.models.users` for the conventions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from tuichat.compat._awaitable import (
    AwaitableDict,
    AwaitableList,
    AwaitableStr,
    NotFound,
    SelfAwaitable,
    or_not_found,
)
from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current
from tuichat.compat.open_webui.utils.misc import get_message_list
from tuichat.store import ChatRow, MessageRow

__all__ = [
    "ChatForm",
    "ChatListResponse",
    "ChatModel",
    "ChatTitleIdResponse",
    "Chats",
    "ChatsTable",
]

class ChatModel(SelfAwaitable, BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    title: str
    chat: dict[str, Any]

    created_at: int  # epoch seconds
    updated_at: int

    share_id: str | None = None
    archived: bool = False
    pinned: bool | None = False

    meta: dict[str, Any] = {}
    folder_id: str | None = None


class ChatForm(BaseModel):
    chat: dict[str, Any]
    folder_id: str | None = None


class ChatTitleIdResponse(BaseModel):
    id: str
    title: str
    updated_at: int
    created_at: int


class ChatListResponse(BaseModel):
    items: list[ChatModel]
    total: int


class ChatList(AwaitableList[ChatModel]):
    """Chats as the list older Open WebUI returned, with 0.12's `.items` and `.total`
    too, so pipes of either age read `get_chats_by_user_id` as they expect."""

    def __init__(self, chats: Iterable[ChatModel], total: int) -> None:
        super().__init__(chats)
        self.total = total

    @property
    def items(self) -> list[ChatModel]:
        return list(self)


class ChatsTable:
    def get_chat_by_id(self, id: str, db: object = None) -> ChatModel | NotFound:
        return or_not_found(_chat(id))

    def get_chat_by_id_and_user_id(
        self, id: str, user_id: str, db: object = None
    ) -> ChatModel | NotFound:
        chat = _chat(id)
        return or_not_found(chat if chat is not None and chat.user_id == user_id else None)

    def get_chats_by_user_id(
        self, user_id: str, skip: int | None = None, limit: int | None = None, db: object = None
    ) -> ChatList:
        """The user's chats, most recently updated first."""
        tables = current().tables
        owner = tables.users.local_id()
        if user_id != owner:
            return ChatList([], total=0)
        rows = tables.chats.recent()
        start = skip or 0
        page = rows[start : start + limit if limit else None]
        return ChatList((_chat_model(row, owner) for row in page), total=len(rows))

    def get_chats(self, skip: int = 0, limit: int = 50, db: object = None) -> ChatList:
        """Every user's chats (an admin dashboard's view): here, the one local user's."""
        owner = current().tables.users.local_id()
        return self.get_chats_by_user_id(owner or "", skip=skip, limit=limit)

    def get_chat_title_by_id(self, id: str, db: object = None) -> AwaitableStr | NotFound:
        row = current().tables.chats.get(id)
        return or_not_found(None if row is None else AwaitableStr(row.title))

    def get_messages_map_by_chat_id(self, id: str, db: object = None) -> AwaitableDict | NotFound:
        """The chat's messages by id (`chat["history"]["messages"]`)."""
        chat = self.get_chat_by_id(id)
        if not isinstance(chat, ChatModel):
            return chat
        return AwaitableDict(chat.chat["history"]["messages"])

    def get_message_by_id_and_message_id(
        self, id: str, message_id: str, db: object = None
    ) -> AwaitableDict | NotFound:
        messages = self.get_messages_map_by_chat_id(id)
        message = messages.get(message_id) if isinstance(messages, dict) else None
        return or_not_found(None if message is None else AwaitableDict(message))

    def update_chat_title_by_id(
        self, id: str, title: str, db: object = None
    ) -> ChatModel | NotFound:
        current().tables.chats.rename(id, title)
        return self.get_chat_by_id(id)


Chats = ChatsTable()


def _chat(id: str) -> ChatModel | None:
    tables = current().tables
    row = tables.chats.get(id)
    return None if row is None else _chat_model(row, tables.users.local_id())


def _chat_model(row: ChatRow, owner: str | None) -> ChatModel:
    history = _history(current().tables.chats.messages(row.id), row.model_id)
    params = dict(row.params or {})
    if row.system_prompt:
        params["system"] = row.system_prompt
    return ChatModel(
        id=row.id,
        user_id=owner or "",
        title=row.title,
        chat={
            "title": row.title,
            "models": [row.model_id] if row.model_id else [],
            "params": params,
            "history": history,
            "messages": get_message_list(history["messages"], history["currentId"]),
            "tags": [],
            "timestamp": int(row.created_at * 1000),  # milliseconds, as the web UI
            "files": [],
        },
        created_at=int(row.created_at),
        updated_at=int(row.updated_at),
    )


def _history(rows: list[MessageRow], model_id: str | None) -> dict[str, Any]:
    """`{"messages": {id: message}, "currentId": newest id}` from the chat's rows.

    tuichat's chats are linear; a row without a parent follows the one before it.
    """
    messages: dict[str, dict[str, Any]] = {}
    previous: str | None = None
    for row in rows:
        parent = row.parent_id or previous
        messages[row.id] = _message(row, parent, model_id)
        if parent in messages:
            messages[parent]["childrenIds"].append(row.id)
        previous = row.id
    return {"messages": messages, "currentId": previous}


def _message(row: MessageRow, parent: str | None, chat_model: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": row.id,
        "parentId": parent,
        "childrenIds": [],
        "role": row.role,
        "content": row.content,
        "timestamp": int(row.created_at),
    }
    if row.role == "user" and chat_model:
        message["models"] = [chat_model]
    if row.role == "assistant":
        message["model"] = row.model_id
        message["done"] = row.status != "streaming"
        if row.error:
            message["error"] = {"content": row.error}
        if row.usage is not None:
            message["usage"] = row.usage
    return message


__getattr__ = module_getattr(__name__)
