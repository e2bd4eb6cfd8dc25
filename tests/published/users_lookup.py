"""
title: Who Am I
author: tuichat-tests
version: 0.2.0
description: Looks the caller up in Open WebUI's user table and greets them with their name and role.
"""

from typing import Optional

from pydantic import BaseModel, Field

from open_webui.models.users import Users


class Pipe:
    class Valves(BaseModel):
        LEGACY_SYNC_LOOKUP: bool = Field(
            default=False,
            description="Call Users.get_user_by_id without await, as pipes written for Open WebUI 0.5/0.6 do.",
        )

    def __init__(self):
        self.valves = self.Valves()

    def _lookup_legacy(self, user_id: str):
        # Open WebUI up to 0.6: the model accessors were synchronous.
        return Users.get_user_by_id(user_id)

    async def _lookup(self, user_id: str):
        # Open WebUI 0.7 and later: every accessor is a coroutine.
        return await Users.get_user_by_id(user_id)

    async def pipe(self, body: dict, __user__: Optional[dict] = None) -> str:
        if not __user__ or "id" not in __user__:
            return "I don't know who you are: no user came with this request."

        if self.valves.LEGACY_SYNC_LOOKUP:
            user = self._lookup_legacy(__user__["id"])
        else:
            user = await self._lookup(__user__["id"])

        if not user:
            return f"No user with id {__user__['id']} was found."
        return f"Hello {user.name}! Your role is {user.role} and your email is {user.email}."
