"""
title: Hang Tools
description: a tool that never returns (until the turn is stopped), for the activity pane's attribution.
"""

import asyncio


class Tools:
    async def wait_forever(self) -> str:
        """
        Never returns.
        """
        await asyncio.sleep(3600)
        return "never"
