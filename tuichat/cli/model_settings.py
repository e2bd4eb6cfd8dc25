"""`tuichat models set|show|reset MODEL_ID`: a model's settings row (Open WebUI's `model`
table), which attaches filters (`meta.filterIds`) and tools (`meta.toolIds`) to a model and
holds its params."""

from __future__ import annotations

import argparse

from tuichat.cli.commands import UsageError, parse_json
from tuichat.cli.output import dump_json
from tuichat.runtime.model_settings import ModelSettingsError, current_row, merge_row, save_row
from tuichat.store import Store


def _ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


async def models_set(args: argparse.Namespace, store: Store) -> int:
    row = await current_row(store, args.model_id)
    try:
        if args.row:
            row = merge_row(row, parse_json(args.row, "--json", want=dict), args.model_id)
    except ModelSettingsError as error:
        raise UsageError(f"--json: {error}") from None
    try:
        saved = await save_row(store, args.model_id, row, filters=_ids(args.filters), tools=_ids(args.tools))
    except ModelSettingsError as error:
        raise UsageError(str(error)) from None
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
