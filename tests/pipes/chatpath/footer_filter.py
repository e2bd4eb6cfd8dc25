"""
title: Footer Filter
description: an outlet after bad_filter's (priority 5): it runs only when the earlier outlets did not fail.
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 5

    def __init__(self):
        self.valves = self.Valves()

    def outlet(self, body: dict) -> dict:
        body["messages"][-1]["content"] += " [footer]"
        return body
