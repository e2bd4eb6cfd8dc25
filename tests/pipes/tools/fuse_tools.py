"""
title: Fuse Tools
description: a tool that emits a status, then raises, for the activity pane's attribution.
"""


class Tools:
    async def explode(self, __event_emitter__=None) -> str:
        """
        Always fails.
        """
        await __event_emitter__({"type": "status", "data": {"description": "lighting the fuse", "done": False}})
        raise RuntimeError("the fuse was lit")
