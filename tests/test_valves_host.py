"""Valves are read and checked in the pipe host, by the pipe's own classes, never in the app:
real host processes, and Valves classes that take theirs down or never return. Each case: a
clear error naming the function and what to look at, nothing stored changes, the app's
process untouched, and the next request works on a new host."""

from __future__ import annotations

import asyncio
import sys
import textwrap

import pytest

from tests.test_host_process import GUARD, next_call_works
from tuichat.runtime.function_valves import check_form, read_function_valves
from tuichat.runtime.host import HostDied, PipeHost
from tuichat.runtime.library import FunctionLibrary

EXITING = textwrap.dedent('''
    import os
    from pydantic import BaseModel, field_validator

    class Pipe:
        class Valves(BaseModel):
            LIMIT: int = 1

            @field_validator("LIMIT")
            @classmethod
            def check(cls, value):
                if value == 666:
                    os._exit(7)
                if value == 999:
                    while True:
                        pass
                return value

        def __init__(self):
            self.valves = self.Valves()

        def pipe(self, body):
            return f"limit {self.valves.LIMIT}"
''')

READ_EXITS = textwrap.dedent('''
    import os
    from pydantic import BaseModel, Field

    def boom():
        os._exit(9)

    class Pipe:
        class UserValves(BaseModel):
            NOTE: str = Field(default_factory=boom)

        def pipe(self, body):
            return "never read"
''')


@pytest.fixture
async def exiting(library: FunctionLibrary) -> FunctionLibrary:
    await library.add(EXITING, function_id="exiting")
    return library


async def test_the_valves_are_read_in_the_host_not_the_app(exiting: FunctionLibrary) -> None:
    valves = await read_function_valves(exiting, "exiting")
    assert [(f.name, f.kind, f.value) for f in valves.fields] == [("LIMIT", "int", 1)]
    assert "function_exiting" not in sys.modules  # the pipe's module was never loaded here
    assert await exiting.set_valves("exiting", {"LIMIT": 3}) == {"LIMIT": 3}
    assert await check_form(exiting, "exiting", {"LIMIT": "x"}) == ({}, {"LIMIT": "Not a whole number: x"})


async def test_a_validator_that_exits_costs_the_host_not_the_app(exiting: FunctionLibrary, host: PipeHost) -> None:
    await exiting.set_valves("exiting", {"LIMIT": 3})
    first = await host.process()
    with pytest.raises(HostDied) as died:
        await asyncio.wait_for(exiting.set_valves("exiting", {"LIMIT": 666}), GUARD)
    message = str(died.value)
    assert "checking the valves of 'exiting' stopped the pipe process" in message
    assert "it exited with status 7" in message and "Valves class" in message
    assert (await exiting.get("exiting")).valves == {"LIMIT": 3}  # nothing stored changed
    with pytest.raises(HostDied, match="status 7"):  # the form's check says the same
        await asyncio.wait_for(check_form(exiting, "exiting", {"LIMIT": "666"}), GUARD)
    assert not first.alive
    assert await exiting.set_valves("exiting", {"LIMIT": 4}) == {"LIMIT": 4}  # a new host
    await next_call_works(host, exiting)


async def test_a_validator_that_never_returns_is_cut_off(exiting: FunctionLibrary, host: PipeHost) -> None:
    host.valves_timeout = 1.0
    with pytest.raises(HostDied, match=r"took longer than 1 s.*it was at exiting\.py:\d+"):
        await asyncio.wait_for(exiting.set_valves("exiting", {"LIMIT": 999}), GUARD)
    assert (await exiting.get("exiting")).valves == {}
    await next_call_works(host, exiting)


async def test_reading_valves_whose_default_exits(library: FunctionLibrary, host: PipeHost) -> None:
    await library.add(READ_EXITS, function_id="read_exits")
    user = await library.store.users.local()
    with pytest.raises(HostDied, match=r"reading the user valves of 'read_exits' stopped the pipe process .*status 9.*UserValves"):
        await asyncio.wait_for(read_function_valves(library, "read_exits", user_id=user["id"]), GUARD)
    await next_call_works(host, library)
