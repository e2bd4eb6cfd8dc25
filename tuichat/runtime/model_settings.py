"""Saving a model's settings row (Open WebUI's `model` table), the same way for
`tuichat models set` and the TUI's model settings screen: the row as stored (or a new one),
a JSON row merged over it, filters named by id, each checked to be a stored filter."""

from __future__ import annotations

from typing import Any

from tuichat.store import Store
from tuichat.store.model_settings import ModelSettings

ROW_KEYS = ("id", "base_model_id", "name", "meta", "params", "user_id", "access_control", "is_active", "created_at", "updated_at")


class ModelSettingsError(ValueError):
    """What is wrong with a settings row, in words a user can act on."""


async def current_row(store: Store, model_id: str) -> dict[str, Any]:
    """The stored row as Open WebUI dumps it, or a new one named after the model."""
    existing = await store.model_settings.get(model_id)
    return existing.to_json() if existing is not None else {"id": model_id, "name": model_id, "meta": {}, "params": {}}


def merge_row(row: dict[str, Any], given: dict[str, Any], model_id: str) -> dict[str, Any]:
    """`given` (a whole or partial row) over `row`; only name, base_model_id, meta and params
    are taken, and the others must be a row's keys."""
    unknown = sorted(set(given) - set(ROW_KEYS))
    if unknown:
        raise ModelSettingsError(f"unknown key(s) {', '.join(unknown)}; a row has {', '.join(ROW_KEYS)}")
    if given.get("id") not in (None, model_id):
        raise ModelSettingsError(f"the row's id {given['id']!r} is not {model_id!r}")
    for key in ("meta", "params"):
        if key in given and not isinstance(given[key], dict):
            raise ModelSettingsError(f"{key} must be a JSON object, not {given[key]!r}")
    return {**row, **{k: v for k, v in given.items() if k in ("name", "base_model_id", "meta", "params")}}


async def save_row(
    store: Store, model_id: str, row: dict[str, Any], *, filters: list[str] | None = None, tools: list[str] | None = None
) -> ModelSettings:
    """Store `row`, with `meta.filterIds` / `meta.toolIds` replaced when given; every filter
    it names must be stored as a filter (else nothing is saved)."""
    meta = dict(row.get("meta") or {})
    if filters is not None:
        meta["filterIds"] = list(filters)
    if tools is not None:
        meta["toolIds"] = list(tools)
    for fid in meta.get("filterIds") or []:
        function = await store.functions.get(str(fid))
        if function is None or function.type != "filter":
            raise ModelSettingsError(f"no filter '{fid}' is stored: add it first with `tuichat pipes add FILE --id {fid}`")
    return await store.model_settings.save(
        model_id, name=str(row.get("name") or model_id), base_model_id=row.get("base_model_id"),
        meta=meta, params=dict(row.get("params") or {}),
    )  # fmt: skip
