"""
title: Caller
description: calls every tool it is given with city="Oslo" and replies with the results and body["tools"] names.
"""


class Pipe:
    async def pipe(self, body, __tools__=None):
        names = [t["function"]["name"] for t in body.get("tools", [])]
        results = [f"{name}: {await tool['callable'](city='Oslo')}" for name, tool in (__tools__ or {}).items()]
        return f"tools {names}; " + "; ".join(results)
