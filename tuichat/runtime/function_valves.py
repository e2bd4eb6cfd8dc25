"""A stored function's valves as the valves form and `tuichat pipes valves` read and check them.

The pipe's own `Valves` / `UserValves` classes do the work, and they are pipe code, so they run
in the pipe host (`tuichat.runtime.valve_checks`): the app sends the source and the stored
values, and gets the fields back as JSON, or the values to store, or what is wrong with them
field by field. Only the app stores (`FunctionLibrary.set_valves`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuichat.runtime.valve_fields import ValveField

if TYPE_CHECKING:
    from tuichat.runtime.library import FunctionLibrary
    from tuichat.store import FunctionRow


@dataclass(frozen=True)
class FunctionValves:
    """A function's valves (`user_id` None) or a user's valves of it: the stored dict and its fields."""

    function: FunctionRow
    model_name: str  # "Valves", "UserValves", or what the pipe named the class
    stored: dict[str, Any]
    fields: list[ValveField]


async def read_function_valves(library: FunctionLibrary, function_id: str, *, user_id: str | None = None) -> FunctionValves:
    """Read what the valves form and `tuichat pipes valves ID` show, the same way for both.

    Raises FunctionNotFound, FunctionLoadError, InvalidValves (no `Valves` or `UserValves`
    class), or HostDied when the class took the host down. Options methods get the local user.
    """
    row = await library.get(function_id)
    stored = await library.store.functions.get_user_valves(row.id, user_id) if user_id is not None else row.valves or {}
    try:
        user: Any = await library.store.users.local()
    except Exception:  # noqa: BLE001 - options methods then get no user
        user = None
    answer = await library.host.valves("describe", row.id, row.content, user=user_id is not None, stored=dict(stored), local_user=user)
    return FunctionValves(row, str(answer["model"]), dict(stored), [ValveField.from_json(f) for f in answer["fields"]])


async def check_form(
    library: FunctionLibrary, function_id: str, raw: Mapping[str, Any], *, user_id: str | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """`valve_fields.parse_form` run in the host on the form's values: `(values, errors)`, where
    `values` (for `set_valves(..., merge=False)`) is only meaningful when `errors` is empty."""
    row = await library.get(function_id)
    answer = await library.host.valves("check", row.id, row.content, user=user_id is not None, form=dict(raw))
    return dict(answer.get("values") or {}), dict(answer.get("errors") or {})
