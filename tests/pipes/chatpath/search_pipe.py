"""
title: Search Pipe
author: tuichat tests
version: 0.1.0
description: The pipe the Web Search toggle is written for: it searches only when the filter asked (and says what it received)
"""


class Pipe:
    def pipe(self, body: dict, __metadata__: dict) -> str:
        search = body.get("web_search_options")
        searched = f"on, {search['max_results']} results from {search['region']}" if search else "off"
        lines = [
            f"search: {searched}",
            f"filter_ids: {', '.join(__metadata__.get('filter_ids') or []) or 'none'}",
        ]
        for key in ("temperature", "top_p", "max_tokens", "seed", "stop", "reasoning_effort"):
            if key in body:
                lines.append(f"{key}: {body[key]}")
        params = __metadata__.get("params") or {}
        lines.append(f"function_calling: {params.get('function_calling')}")
        custom = {k: v for k, v in params.items() if k == "num_ctx"}
        if custom:
            lines.append(f"custom: {custom}")
        system = [m["content"] for m in body["messages"] if m["role"] == "system"]
        if system:
            lines.append(f"system: {' | '.join(system)}")
        return "  \n".join(lines)
