class Pipe:
    def pipe(self, body: dict) -> str:
        answer = 41 + 1
        raise RuntimeError(f"pipe boom {answer}")
