"""`open_webui.internal.db`: SQLAlchemy sessions on tuichat's own database.

Pipes use it to keep tables of their own (`class Usage(Base)`, then
`Base.metadata.create_all(engine)` and `with get_db() as db: ...`), or to share
a session with the `open_webui.models` stand-ins, which ignore it. Here the
database is the SQLite file of the host running the pipe (see
`tuichat.compat.binding`): the engines are made on first use, one per file.

SQLAlchemy is not one of tuichat's dependencies. Importing this module never
needs it; using it (`get_db()`, `engine`, `Base`, ...) without it raises
ModuleNotFoundError for `sqlalchemy`, which says how to install it, and which
`tuichat pipes add FILE --install-missing` answers by installing it.

As in Open WebUI 0.12.4, `get_db` gives a synchronous Session (a context
manager) and `get_async_db_context` an AsyncSession (`sqlite+aiosqlite`, over the
aiosqlite tuichat already has), reusing the session it is given only when
`DATABASE_ENABLE_SESSION_SHARING` is true.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current

__all__ = [
    "AsyncSessionLocal",  # noqa: F822  (computed by __getattr__, like the names below)
    "Base",  # noqa: F822
    "JSONField",  # noqa: F822
    "SQLALCHEMY_DATABASE_URL",  # noqa: F822
    "ScopedSession",  # noqa: F822
    "SessionLocal",  # noqa: F822
    "async_engine",  # noqa: F822
    "engine",  # noqa: F822
    "get_async_db",
    "get_async_db_context",
    "get_async_session",
    "get_db",
    "get_session",
    "metadata_obj",  # noqa: F822
]

DATABASE_ENABLE_SESSION_SHARING = os.environ.get("DATABASE_ENABLE_SESSION_SHARING", "False").lower() == "true"
_WHY = (
    "open_webui.internal.db gives pipes SQLAlchemy sessions on tuichat's database, and SQLAlchemy "
    "is not installed (Open WebUI ships it; tuichat does not). Install it with "
    "`tuichat pipes add FILE --install-missing`, or `pip install 'sqlalchemy[asyncio]>=2'`"
)
_lock = threading.Lock()


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ModuleNotFoundError as exc:
        if exc.name != "sqlalchemy":
            raise
        raise ModuleNotFoundError(f"No module named 'sqlalchemy': {_WHY}.", name="sqlalchemy") from None
    return sqlalchemy


def _path() -> Path:
    return Path(current().tables.path)


def database_url() -> str:
    return f"sqlite:///{_path()}"


@functools.cache
def _engine_for(path: Path) -> Any:
    sa = _sqlalchemy()
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})
    return engine


@functools.cache
def _async_engine_for(path: Path) -> Any:
    _sqlalchemy()
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    # NullPool: a connection belongs to the event loop that opened it, and pipes run on
    # more than one (a sync pipe's own asyncio.run, the tests' loops).
    return create_async_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool, connect_args={"timeout": 30})


def _engine() -> Any:
    with _lock:
        return _engine_for(_path())


def _async_engine() -> Any:
    with _lock:
        return _async_engine_for(_path())


def _session_factory() -> Any:
    _sqlalchemy()
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(autocommit=False, autoflush=False, bind=_engine(), expire_on_commit=False)


def _async_session_factory() -> Any:
    _sqlalchemy()
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    return async_sessionmaker(
        bind=_async_engine(), class_=AsyncSession, autocommit=False, autoflush=False, expire_on_commit=False
    )


@functools.cache
def _declarative() -> tuple[Any, Any]:
    """One declarative Base for the process, as Open WebUI has: the tables pipes declare."""
    sa = _sqlalchemy()
    from sqlalchemy.orm import declarative_base

    metadata = sa.MetaData(schema=os.environ.get("DATABASE_SCHEMA") or None)
    return declarative_base(metadata=metadata), metadata


@functools.cache
def _json_field() -> type:
    sa = _sqlalchemy()
    import json

    class JSONField(sa.types.TypeDecorator):
        """Arbitrary values stored as JSON text, as Open WebUI's JSONField."""

        impl = sa.types.UnicodeText
        cache_ok = True

        def process_bind_param(self, value: Any, dialect: Any) -> Any:
            return json.dumps(value, ensure_ascii=False) if value is not None else None

        def process_result_value(self, value: Any, dialect: Any) -> Any:
            return json.loads(value) if value is not None else None

        def copy(self, **kwargs: Any) -> JSONField:
            return JSONField(length=self.impl.length)

    return JSONField


@functools.cache
def _scoped_session_for(path: Path) -> Any:
    _sqlalchemy()
    from sqlalchemy.orm import scoped_session

    return scoped_session(_session_factory())


def get_session() -> Iterator[Any]:
    """A synchronous Session on tuichat's database, closed when the generator ends."""
    db = _session_factory()()
    try:
        yield db
    finally:
        db.close()


get_db = contextmanager(get_session)


async def get_async_session() -> AsyncIterator[Any]:
    async with _async_session_factory()() as db:
        yield db


@asynccontextmanager
async def get_async_db() -> AsyncIterator[Any]:
    async with _async_session_factory()() as db:
        yield db


@asynccontextmanager
async def get_async_db_context(db: Any = None) -> AsyncIterator[Any]:
    """The session given, when sessions are shared (DATABASE_ENABLE_SESSION_SHARING), else a new one."""
    if db is not None and DATABASE_ENABLE_SESSION_SHARING:
        from sqlalchemy.ext.asyncio import AsyncSession

        if isinstance(db, AsyncSession):
            yield db
            return
    async with get_async_db() as session:
        yield session


__getattr__ = module_getattr(
    __name__,
    {
        "engine": _engine,
        "async_engine": _async_engine,
        "SessionLocal": _session_factory,
        "AsyncSessionLocal": _async_session_factory,
        "ScopedSession": lambda: _scoped_session_for(_path()),
        "Base": lambda: _declarative()[0],
        "metadata_obj": lambda: _declarative()[1],
        "JSONField": _json_field,
        "SQLALCHEMY_DATABASE_URL": database_url,
    },
)
