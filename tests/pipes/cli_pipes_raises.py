class Pipe:
    def pipes(self) -> list:
        raise RuntimeError("listing boom")

    def pipe(self, body: dict) -> str:
        return "never listed"
