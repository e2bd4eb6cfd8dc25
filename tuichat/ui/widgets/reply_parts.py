"""What shows around a reply's text, as text: the version label beside its heading and the
parts under it (error, status with its spinner, sources, usage, follow-ups). Everything the
pipe wrote is neutralised (`untrusted.neutralise`)."""

from __future__ import annotations

from tuichat.runtime.reply.model import ReplyParts
from tuichat.runtime.reply.present import follow_ups_text, sources_text, status_text, usage_line
from tuichat.runtime.untrusted import neutralise
from tuichat.store.branches import Version

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
# Under a reply whose process ended before it did: a signal, a hang-up, kill -9, a crash.
INTERRUPTED = "Interrupted: tuichat ended before the reply did; what arrived is kept"


def version_label(text: str, version: Version | None) -> str:
    """`text`, and `‹ 2/3 ›` when the message is one of several versions."""
    return f"{text}  ‹ {version.index}/{version.count} ›".strip() if version is not None else text


def parts_text(parts: ReplyParts, spin: int | None = None) -> dict[str, str]:
    """The text of each part under a reply, by widget id; `spin`: the spinner's frame."""
    status = neutralise(status_text(parts.shown_status)) if parts.shown_status is not None else ""
    if spin is not None and parts.busy:
        status = f"{SPINNER[spin % len(SPINNER)]} {status}"
    stopped = {"stopped": "Stopped", "interrupted": INTERRUPTED}.get(parts.status, "")
    return {
        "error": neutralise("\n".join(text for text in (parts.error, stopped) if text)),
        "status": status,
        "sources": neutralise(sources_text(list(parts.sources))),
        "usage": neutralise(usage_line(parts.usage)),
        "follow_ups": neutralise(follow_ups_text(list(parts.follow_ups))),
    }
