"""`tuichat models set|show|reset MODEL_ID`: a model's settings row (Open WebUI's `model`
table), which attaches filters (`meta.filterIds`) and tools (`meta.toolIds`) to a model and
holds its params."""

from __future__ import annotations

import argparse
from typing import Any

from tuichat.cli.commands import UsageError, parse_json
from tuichat.cli.output import dump_json
from tuichat.store import Store

ROW_KEYS = ("id", "base_model_id", "name", "meta", "params", "user_id", "access_control", "is_active", "created_at", "updated_at")


def _ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


async def models_set(args: argparse.Namespace, store: Store) -> int:
    existing = await store.model_settings.get(args.model_id)
    row: dict[str, Any] = existing.to_json() if existing is not None else {"name": args.model_id, "meta": {}, "params": {}}
    if args.row:
        given = parse_json(args.row, "--json", want=dict)
        unknown = sorted(set(given) - set(ROW_KEYS))
        if unknown:
            raise UsageError(f"--json: unknown key(s) {', '.join(unknown)}; a row has {', '.join(ROW_KEYS)}")
        if given.get("id") not in (None, args.model_id):
            raise UsageError(f"--json: the row's id {given['id']!r} is not {args.model_id!r}")
        for key in ("meta", "params"):
            if key in given and not isinstance(given[key], dict):
                raise UsageError(f"--json: {key} must be a JSON object, not {given[key]!r}")
        row.update({k: v for k, v in given.items() if k in ("name", "base_model_id", "meta", "params")})
    meta = dict(row.get("meta") or {})
    filters, tools = _ids(args.filters), _ids(args.tools)
    if filters is not None:
        meta["filterIds"] = filters
    if tools is not None:
        meta["toolIds"] = tools
    for fid in meta.get("filterIds") or []:
        function = await store.functions.get(fid)
        if function is None or function.type != "filter":
            raise UsageError(f"no filter '{fid}' is stored: add it first with `tuichat pipes add FILE --id {fid}`")
    saved = await store.model_settings.save(
        args.model_id, name=str(row.get("name") or args.model_id), base_model_id=row.get("base_model_id"),
        meta=meta, params=dict(row.get("params") or {}),
    )  # fmt: skip
    attached = ", ".join(saved.filter_ids) or "none"
    print(f"saved the settings of model '{saved.id}' (filters: {attached})")
    return 0


async def models_show(args: argparse.Namespace, store: Store) -> int:
    row = await store.model_settings.get(args.model_id)
    if row is None:
        raise UsageError(f"model '{args.model_id}' has no settings row; save one with `tuichat models set {args.model_id} ...`")
    print(dump_json(row.to_json(), indent=2))
    return 0


async def models_reset(args: argparse.Namespace, store: Store) -> int:
    gone = await store.model_settings.delete(args.model_id)
    print(f"reset model '{args.model_id}'" + ("" if gone else " (it had no settings row)"))
    return 0


MODEL_ACTIONS = {"set": models_set, "show": models_show, "reset": models_reset}
