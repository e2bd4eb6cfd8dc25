"""Results that work both awaited and used directly.

Open WebUI 0.12's model tables are async (`await Users.get_user_by_id(id)`), while
pipes written for older versions call the same methods synchronously and use the
result at once (`Users.get_user_by_id(id).name`). The shim's methods therefore do
their (short, local) database work synchronously and return values that are also
awaitable, `await` giving the value itself back.

"Not found" cannot be `None`, which is not awaitable; it is `NOT_FOUND`, which is
falsy, `== None`, and gives `None` when awaited. So `if not user:` and
`user == None` work unchanged, and `user is None` works only after `await`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Final, NoReturn, Self, TypeVar, final

T = TypeVar("T")


class SelfAwaitable:
    """Mixin: `await x` evaluates to `x`."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, Self]:
        yield from ()  # a generator that finishes at once, returning the value
        return self


class AwaitableDict(SelfAwaitable, dict[str, Any]):
    pass


class AwaitableList(SelfAwaitable, list[T]):
    pass


class AwaitableStr(SelfAwaitable, str):
    pass


class AwaitableInt(SelfAwaitable, int):
    pass


class AwaitableBool(AwaitableInt):
    """`bool` cannot be subclassed: an int that is 1 or 0, shown as True or False.

    `if result:` and `result == True` work; `result is True` does not.
    """

    def __repr__(self) -> str:
        return repr(bool(self))

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(bool(self), spec)


@final
class NotFound:
    """The result of a lookup that found nothing (see the module docstring)."""

    _instance: NotFound | None = None

    def __new__(cls) -> NotFound:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __await__(self) -> Generator[None, None, None]:
        yield from ()
        return None

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return other is None or other is self

    def __hash__(self) -> int:
        return hash(None)

    def __repr__(self) -> str:
        return "None"

    def __getattr__(self, name: str) -> NoReturn:
        # Old synchronous code then fails as it would have on a real None.
        raise AttributeError(f"'NoneType' object has no attribute {name!r}")


NOT_FOUND: Final = NotFound()


def or_not_found(value: T | None) -> T | NotFound:
    return NOT_FOUND if value is None else value
