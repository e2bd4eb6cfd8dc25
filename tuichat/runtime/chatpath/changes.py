"""What a filter hook changed, in words for the activity pane: the messages it edited,
added or removed, the body keys it added, removed or changed, and, for the stream stage,
a tally per filter (chunks seen, rewritten, dropped) summarised once the stream ends.

Inlet, request and outlet hooks run once a turn, so their body is copied before the call
and compared after. A stream hook runs on every chunk: the chunk is compared as the JSON
bytes the stage encodes anyway (`StreamTally`), never deep-copied.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass
from typing import Any

_ORDINALS = ("first", "second", "third")


def snapshot(body: Any) -> Any:
    """A copy of `body` to compare with after the hook (it may edit the body in place).
    `metadata` is left out: it is shared with the turn and not the hook's to change."""
    if not isinstance(body, dict):
        return body
    try:
        return copy.deepcopy({key: value for key, value in body.items() if key != "metadata"})
    except Exception:  # something a filter put there that cannot be copied: compared by identity
        return dict(body)


def body_changes(before: Any, after: Any) -> list[str]:
    """What changed between the body a hook got and the one it returned."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    changes = message_changes(before.get("messages"), after.get("messages"))
    keys_after = [key for key in after if key != "metadata"]
    added = [key for key in keys_after if key not in before]
    removed = [key for key in before if key not in after]
    edited = [key for key in keys_after if key in before and key != "messages" and _differs(before[key], after[key])]
    if added:
        changes.append(f"added body key{_s(added)} {_keys(added)}")
    if removed:
        changes.append(f"removed body key{_s(removed)} {_keys(removed)}")
    if edited:
        changes.append(f"changed body key{_s(edited)} {_keys(edited)}")
    return changes


def message_changes(before: Any, after: Any) -> list[str]:
    """The messages edited, added or removed. Unchanged messages are matched first (a diff
    of the lists); what is left between them is matched by role, so an inserted system
    message reads as added, not as every message after it edited."""
    if not isinstance(before, list) or not isinstance(after, list):
        return [] if not _differs(before, after) else ["replaced the messages"]
    changes: list[str] = []
    whole = difflib.SequenceMatcher(None, [_key(m) for m in before], [_key(m) for m in after], autojunk=False)
    for op, b1, b2, a1, a2 in whole.get_opcodes():
        if op == "equal":
            continue
        roles = difflib.SequenceMatcher(None, [_role(m) for m in before[b1:b2]], [_role(m) for m in after[a1:a2]], autojunk=False)
        for inner, c1, c2, d1, d2 in roles.get_opcodes():
            if inner in ("equal", "replace") and c2 - c1 == d2 - d1:
                for b, a in zip(range(b1 + c1, b1 + c2), range(a1 + d1, a1 + d2), strict=True):
                    changes.append(_edit(after, a, before[b], after[a]))
                continue
            changes += [f"removed {_a(_role(m))} {_role(m)} message" for m in before[b1 + c1 : b1 + c2]]
            changes += [f"added {_a(_role(m))} {_role(m)} message" for m in after[a1 + d1 : a1 + d2]]
    return changes


def _edit(messages: list[Any], index: int, old: Any, new: Any) -> str:
    role = _role(new)
    if _role(old) != role:
        return f"made message {index + 1} {_a(role)} {role} message (it was {_role(old)})"
    where = _which(messages, index, role)
    old_content, new_content = _content(old), _content(new)
    if isinstance(old_content, str) and isinstance(new_content, str) and old_content != new_content:
        return f"edited {where} ({_chars(len(new_content) - len(old_content))})"
    if _differs(old_content, new_content):
        return f"edited {where} (its content parts)"
    return f"edited {where} (fields other than its content)"


def _key(message: Any) -> str:
    """A message as comparable text: equal messages match in the diff."""
    try:
        return json.dumps(message, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(message)


def _which(messages: list[Any], index: int, role: str) -> str:
    """'the last user message', 'the first system message', 'message 4 (assistant)'."""
    same = [i for i, m in enumerate(messages) if _role(m) == role]
    if len(same) == 1 or index == same[-1]:
        return f"the {'last ' if len(same) > 1 else ''}{role} message"
    position = same.index(index)
    if position < len(_ORDINALS):
        return f"the {_ORDINALS[position]} {role} message"
    return f"message {index + 1} ({role})"


def content_change(before: Any, after: Any) -> str | None:
    """How an outlet changed the reply's text: 'rewrote the reply (+12 chars)', or None."""
    if before == after or not isinstance(after, str):
        return None
    return f"rewrote the reply ({_chars(len(after) - len(before or ''))})"


@dataclass(slots=True)
class StreamTally:
    """One stream filter's work over a whole stream, summarised once it ends."""

    chunks: int = 0
    rewritten: int = 0
    dropped: int = 0
    raised: int = 0
    seconds: float = 0.0

    def record(self, filter_id: str) -> dict[str, Any]:
        return {"filter": filter_id, "hook": "stream", "ms": round(self.seconds * 1000, 3), "chunks": self.chunks,
                "rewritten": self.rewritten, "dropped": self.dropped, "raised": self.raised}  # fmt: skip


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except Exception:  # a value whose comparison raises: count it as changed
        return True


def _role(message: Any) -> str:
    return str(message.get("role")) if isinstance(message, dict) else type(message).__name__


def _content(message: Any) -> Any:
    return message.get("content") if isinstance(message, dict) else message


def _chars(delta: int) -> str:
    return f"{delta:+d} char{_s(delta)}" if delta else "same length"


def _a(word: str) -> str:
    return "an" if word[:1] in ("a", "e", "i", "o") else "a"  # roles: "an assistant", "a user"


def _s(count: Any) -> str:
    n = len(count) if isinstance(count, list) else count
    return "" if n in (1, -1) else "s"


def _keys(keys: list[str]) -> str:
    return ", ".join(repr(key) for key in keys)
