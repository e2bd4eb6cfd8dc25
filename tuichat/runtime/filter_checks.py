"""A filter's facts read from its loaded instance: this runs in the pipe host (the app's
side is `tuichat.runtime.filter_facts`). Priority is `Valves(**saved).priority` (0 without
one), toggle a truthy `toggle` on the instance, as the chat path reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuichat.runtime.chatpath.filters import is_toggle, priority_of
from tuichat.runtime.reply.model import json_safe

if TYPE_CHECKING:
    from tuichat.store.functions import FunctionRow


def facts_of(instance: Any, row: FunctionRow) -> dict[str, Any]:
    """The facts of a loaded filter, as JSON (`FilterFacts` on the app's side)."""
    return {"id": row.id, "priority": json_safe(priority_of(instance, row.valves)), "toggle": is_toggle(instance)}
