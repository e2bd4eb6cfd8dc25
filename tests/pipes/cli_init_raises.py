class Pipe:
    def __init__(self):
        raise ValueError("init boom")

    def pipe(self, body: dict) -> str:
        return "never built"
