"""
title: Words Pipe
"""


class Pipe:
    def pipe(self, body: dict):
        if body["messages"][-1]["content"].startswith("fail mid-stream"):
            return self.failing()
        if body.get("stream"):
            return iter(["one ", "two ", "three"])
        return "one two three"

    def failing(self):
        yield "partial "
        raise RuntimeError("the pipe broke")
