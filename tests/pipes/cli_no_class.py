"""A module with a function but no Pipe, Filter, Action or Event class."""


def pipe(body: dict) -> str:
    return "not a class"
