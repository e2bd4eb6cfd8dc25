"""`tuichat chats ...`: the stored chats, listed, shown and deleted."""

from __future__ import annotations

import argparse
from typing import Any

from tuichat.cli.commands import UsageError, resolve_chat, when
from tuichat.cli.output import dump_json, table
from tuichat.runtime.attached import describe_files
from tuichat.store import Store


async def chats_list(args: argparse.Namespace, store: Store) -> int:
    chats = await store.chats.list()
    if args.tag is not None:
        tagged = set(await store.tags.chats_with(args.tag))
        chats = [c for c in chats if c.id in tagged]
    tags = await store.tags.of_chats([c.id for c in chats])
    if args.json:
        print(dump_json([
            {"id": c.id, "title": c.title, "model_id": c.model_id, "updated_at": c.updated_at, "tags": tags.get(c.id, []),
             "origin": c.origin}
            for c in chats
        ], indent=2))  # fmt: skip
    else:
        rows = [(c.id, when(c.updated_at), c.model_id or "", c.title, ", ".join(tags.get(c.id, []))) for c in chats]
        table(("ID", "UPDATED", "MODEL", "TITLE", "TAGS"), rows)
    return 0


async def chats_show(args: argparse.Namespace, store: Store) -> int:
    chat = await store.chats.get(await resolve_chat(store, args.id))
    if chat is None:  # deleted by another process since
        raise UsageError(f"no chat '{args.id}' is stored. Run `tuichat chats list` to see them.")
    messages, versions = await store.chats.branch_with_versions(chat.id)
    tags = await store.tags.of(chat.id)
    if args.json:
        shown = {"id": chat.id, "title": chat.title, "tags": tags, "messages": [_message_json(m) for m in messages]}
        print(dump_json(shown, indent=2))
        return 0
    print(f"# {chat.title}\n")
    if tags:
        print(f"tags: {', '.join(tags)}\n")
    for m in messages:
        who = m.role if m.role != "assistant" else f"assistant ({m.model_id}, {m.status})"
        if m.id in versions:
            who += f" · version {versions[m.id].index} of {versions[m.id].count}"
        print(f"## {who}\n")
        if m.files:
            print("attached: " + ", ".join(describe_files(m.files)) + "\n")
        print(f"{m.content}\n")
        if m.error:
            print(f"error: {m.error}\n")
        if m.status == "interrupted":
            print(f"{INTERRUPTED_NOTE}\n")
        if m.extra.get("follow_ups"):
            print("follow-ups:\n" + "".join(f"  › {s}\n" for s in m.extra["follow_ups"]))
    return 0


async def chats_rm(args: argparse.Namespace, store: Store) -> int:
    chat_id = await resolve_chat(store, args.id)
    await store.chats.delete(chat_id)
    print(f"removed chat '{chat_id}'")
    return 0


# Under a reply whose process ended before it did (a signal, a hang-up, kill -9, a crash).
INTERRUPTED_NOTE = "interrupted: tuichat ended before this reply did; what arrived until then is kept"

CHAT_ACTIONS = {"list": chats_list, "show": chats_show, "rm": chats_rm}


def _message_json(m: Any) -> dict[str, Any]:
    return {
        "id": m.id, "role": m.role, "content": m.content, "model_id": m.model_id, "status": m.status,
        "error": m.error, "reasoning": m.reasoning, "usage": m.usage, "parent_id": m.parent_id, "created_at": m.created_at,
        "follow_ups": m.extra.get("follow_ups", []), "files": m.files,
    }
