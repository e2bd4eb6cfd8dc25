"""Every case recorded from the real Open WebUI 0.12.4 must reproduce exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.tracing import normalise, trace
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.loading.frontmatter import extract_frontmatter

CASES = Path(__file__).parent / "cases"


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(d.name, json.loads((d / "runs.json").read_text())) for d in sorted(CASES.iterdir()) if d.is_dir()]


def run_params() -> list[Any]:
    return [pytest.param(name, run, id=run["name"]) for name, case in load_cases() for run in case["runs"]]


async def install(library: FunctionLibrary, case_name: str) -> dict[str, Any]:
    case = json.loads((CASES / case_name / "runs.json").read_text())
    source = (CASES / case_name / "pipe.py").read_text()
    await library.add(source, function_id=case["function_id"])
    return case


def test_every_case_is_collected() -> None:
    assert len(load_cases()) == 22
    assert len(run_params()) == 38


@pytest.mark.parametrize("case_name", [name for name, _ in load_cases()])
async def test_frontmatter_name_and_models(case_name: str, host: PipeHost, library: FunctionLibrary) -> None:
    case = await install(library, case_name)
    row = await host.store.functions.get(case["function_id"])
    assert row is not None
    assert extract_frontmatter(row.content) == case["frontmatter"]
    assert row.name == case["function_name"]
    listing = await host.list_models()
    assert normalise(listing.models) == case["models"]


@pytest.mark.parametrize(("case_name", "run"), run_params())
async def test_run_matches_recorded_trace(case_name: str, run: dict[str, Any], host: PipeHost, library: FunctionLibrary) -> None:
    case = await install(library, case_name)
    fid = case["function_id"]
    if run["valves"] is not None:
        await host.store.functions.set_valves(fid, run["valves"])
    if run["user_valves"] is not None:
        local = await host.store.users.local()
        await host.store.functions.set_user_valves(fid, local["id"], run["user_valves"])
    steps = await trace(host, run["model"], run["message"], stream=run["stream"], replies=run["call_replies"])
    assert steps == run["expected"]
