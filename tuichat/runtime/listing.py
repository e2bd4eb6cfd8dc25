"""What listing models and starting a call give a front end: the same in the app and in the
host process, and light to import (the app imports it before the host has started)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from tuichat.runtime.models import FunctionModels
from tuichat.store.functions import FunctionRow

LISTING_TIMEOUT = 30.0  # seconds one function may take to load and list its models


@dataclass
class ModelListing:
    """Every model, in function order, and what went wrong where."""

    models: list[dict[str, Any]]
    functions: list[FunctionModels] = field(default_factory=list)
    inactive: list[FunctionRow] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        found = {f.function_id: f.error for f in self.functions if f.error}
        found.update({row.id: row.load_error or "disabled" for row in self.inactive})
        return found

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {model["id"]: model for model in self.models}


def new_metadata(chat_id: str | None = None, message_id: str | None = None, *, user_id: str, session_id: str) -> dict[str, Any]:
    """The ids Open WebUI's chat puts in `__metadata__`, which also enable events."""
    return {
        "user_id": user_id,
        "chat_id": chat_id or str(uuid.uuid4()),
        "message_id": message_id or str(uuid.uuid4()),
        "session_id": session_id,
    }


def make_body(model_id: str, messages: list[dict[str, Any]], *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {"model": model_id, "messages": messages, "stream": stream, **extra}
