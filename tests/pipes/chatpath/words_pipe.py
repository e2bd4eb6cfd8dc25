"""
title: Words Pipe
"""


class Pipe:
    def pipe(self, body: dict):
        if body.get("stream"):
            return iter(["one ", "two ", "three"])
        return "one two three"
