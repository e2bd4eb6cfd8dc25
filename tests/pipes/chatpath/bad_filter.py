"""
title: Bad Filter
description: misbehaves in the hook its MODE valve names (for the chat path's bad-input tests).
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0
        MODE: str = ""

    def __init__(self):
        self.valves = self.Valves()

    def inlet(self, body: dict) -> dict:
        if self.valves.MODE == "inlet_raise":
            raise ValueError("inlet says no")
        if self.valves.MODE == "inlet_none":
            return None
        if self.valves.MODE == "inlet_str":
            return "not a body"
        return body

    def request(self, body: dict) -> dict:
        if self.valves.MODE == "request_raise":
            raise RuntimeError("request says no")
        return body

    def stream(self, event: dict) -> dict:
        delta = (event.get("choices") or [{}])[0].get("delta") or {}
        if self.valves.MODE == "stream_raise" and delta.get("content") == "two ":
            raise KeyError("stream broke")
        if self.valves.MODE == "stream_none" and delta.get("content") == "two ":
            return None
        return event

    def outlet(self, body: dict) -> dict:
        if self.valves.MODE == "outlet_raise":
            raise ValueError("outlet broke")
        if self.valves.MODE == "outlet_none":
            return None
        return body
