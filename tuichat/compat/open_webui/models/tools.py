"""`open_webui.models.tools`: `Tools`, Open WebUI's table of tools. tuichat has no tools
store yet, so it holds none: lookups find nothing, lists are empty, and valves are `{}`.
Methods work awaited or called directly (see `open_webui.models.users`)."""

from __future__ import annotations

from typing import Any

from tuichat.compat._awaitable import NOT_FOUND, AwaitableDict, AwaitableList, NotFound
from tuichat.compat._names import module_getattr

__all__ = ["Tools", "ToolsTable"]


class ToolsTable:
    def get_tool_by_id(self, id: str, db: Any = None) -> NotFound:
        return NOT_FOUND

    def get_tools_by_ids(self, tool_ids: list[str], db: Any = None) -> AwaitableDict:
        return AwaitableDict()

    def get_tools(self, defer_content: bool = False, db: Any = None, **_: Any) -> AwaitableList[Any]:
        return AwaitableList()

    def get_tools_by_user_id(self, user_id: str, permission: str = "write", db: Any = None, **_: Any) -> AwaitableList[Any]:
        return AwaitableList()

    def get_tool_valves_by_id(self, id: str, db: Any = None) -> NotFound:
        return NOT_FOUND

    def get_user_valves_by_id_and_user_id(self, id: str, user_id: str, db: Any = None) -> AwaitableDict:
        return AwaitableDict()


Tools = ToolsTable()

__getattr__ = module_getattr(__name__)
