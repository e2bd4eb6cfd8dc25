"""A stand-in for the Starlette `Request` Open WebUI passes as `__request__`.

It covers what published pipes touch: `.app.state`, `.state.metadata`,
`.headers`, `.url`, `.base_url`, `.method`, `.client`, `.cookies`,
`.query_params`. The class is named `Request` because pipes check the type name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from tuichat import __version__

BASE_URL = "http://localhost:8080/"


class URL(str):
    """A URL string with Starlette's most used attributes."""

    @property
    def _parts(self):  # type: ignore[no-untyped-def]
        return urlsplit(self)

    @property
    def scheme(self) -> str:
        return self._parts.scheme

    @property
    def netloc(self) -> str:
        return self._parts.netloc

    @property
    def hostname(self) -> str | None:
        return self._parts.hostname

    @property
    def port(self) -> int | None:
        return self._parts.port

    @property
    def path(self) -> str:
        return self._parts.path

    @property
    def query(self) -> str:
        return self._parts.query


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only headers."""

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = {k.lower(): v for k, v in items.items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class Address(NamedTuple):
    host: str
    port: int


class State:
    """Attribute bag like Starlette's `State`: unknown attributes raise AttributeError."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"State({self.__dict__!r})"


class App:
    def __init__(self, state: State) -> None:
        self.state = state


class Request:
    def __init__(self, app_state: State, metadata: dict[str, Any], relay: Any = None) -> None:
        self.app = App(app_state)
        self.state = State(metadata=metadata)
        # For `open_webui.utils.chat.generate_chat_completion` called with this request.
        self.tuichat_relay = relay
        self.method = "POST"
        self.base_url = URL(BASE_URL)
        self.url = URL(BASE_URL + "api/chat/completions")
        self.headers = Headers(
            {
                "host": "localhost:8080",
                "user-agent": f"tuichat/{__version__}",
                "content-type": "application/json",
                "accept": "*/*",
            }
        )
        self.client = Address("127.0.0.1", 0)
        self.cookies: dict[str, str] = {}
        self.query_params: dict[str, str] = {}
        self.path_params: dict[str, str] = {}
        self.scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/api/chat/completions", "app": self.app}

    def __repr__(self) -> str:
        return f"<Request POST {self.url}>"
