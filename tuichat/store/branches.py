"""A chat's messages as a tree, as Open WebUI keeps them (`history.messages` with parent ids,
and `currentId`): regenerating a reply or resending an edited message adds a sibling, so no
version is lost. The chat shows, continues and exports one branch: the path from the root to
its current leaf. Pure functions over rows; `ChatRepo` stores `chat.current_id`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuichat.store.chat_rows import MessageRow


@dataclass(frozen=True, slots=True)
class Version:
    """Where a message stands among its siblings: `index` of `count`, from 1."""

    index: int
    count: int


def children_of(rows: Sequence[MessageRow]) -> dict[str | None, list[MessageRow]]:
    """Each parent id's children (None: the roots), oldest first."""
    children: dict[str | None, list[MessageRow]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    return children


def newest_leaf(children: dict[str | None, list[MessageRow]], start: MessageRow) -> MessageRow:
    """Down from `start`, taking the newest child each time."""
    node = start
    while children.get(node.id):
        node = children[node.id][-1]
    return node


def chosen_branch(rows: Sequence[MessageRow], current_id: str | None) -> list[MessageRow]:
    """The messages from the root to the current leaf (`rows` in creation order). A current id
    that is gone, or none, means the newest message; one with children continues down the
    newest of them."""
    if not rows:
        return []
    by_id = {row.id: row for row in rows}
    children = children_of(rows)
    leaf = newest_leaf(children, by_id.get(current_id or "", rows[-1]))
    path: list[MessageRow] = []
    node: MessageRow | None = leaf
    seen: set[str] = set()
    while node is not None and node.id not in seen:  # a cycle cannot be stored, but never loop
        seen.add(node.id)
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return path[::-1]


def versions(rows: Sequence[MessageRow], branch: Sequence[MessageRow]) -> dict[str, Version]:
    """For each message of `branch` that has siblings, which of them it is."""
    children = children_of(rows)
    out: dict[str, Version] = {}
    for row in branch:
        siblings = children.get(row.parent_id, [])
        if len(siblings) > 1:
            out[row.id] = Version(next(i for i, s in enumerate(siblings) if s.id == row.id) + 1, len(siblings))
    return out


def switched(rows: Sequence[MessageRow], message_id: str, step: int) -> MessageRow | None:
    """The leaf to make current to show the sibling `step` away from `message_id` (None when
    there is none that way)."""
    children = children_of(rows)
    row = next((r for r in rows if r.id == message_id), None)
    if row is None:
        return None
    siblings = children.get(row.parent_id, [])
    index = next(i for i, s in enumerate(siblings) if s.id == message_id) + step
    if not 0 <= index < len(siblings):
        return None
    return newest_leaf(children, siblings[index])
