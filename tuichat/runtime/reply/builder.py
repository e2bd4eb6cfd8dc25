"""The reply a person sees, built from the steps of one invocation.

This follows what Open WebUI's chat does with a pipe's output (spec §7.4, §8), with the
project's deliberate choices (conformance README, "What the TUI shows"): `message` /
`replace` events edit the visible text in order with streamed content, and a reply that
fails keeps the text received before the error.

`ReplyBuilder.feed` is on the hot path (one call per SSE line, 100k+ a second), so each
step costs time proportional to the step alone (see `text.py`). Each line's values are read
as Open WebUI reads them (`wire_values.py`); a reply's activity and statuses are capped (`capped.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, assert_never

from tuichat.runtime.invocation.trace import (
    CallStep,
    EventStep,
    LogStep,
    RaisedStep,
    ResponseStep,
    SseStep,
    Step,
)
from tuichat.runtime.reply.capped import CappedActivity, keep_status
from tuichat.runtime.reply.model import (
    NO_CHANGE,
    ActivityEntry,
    ActivityKind,
    Finished,
    ReasoningTagsParam,
    Reply,
    ReplyParts,
    ReplyStatus,
    Update,
)
from tuichat.runtime.reply.reasoning import ReasoningSplitter
from tuichat.runtime.reply.text import Text, VisibleText
from tuichat.runtime.reply.wire_values import as_text, event_content, first_choice, json_or_none, wire_error_text

# The chat path's outlet result (`tuichat.runtime.chatpath.run`): not an Open WebUI event.
OUTLET_EVENT = "tuichat:outlet"


class ReplyBuilder:
    """Turns the steps of one invocation into the `Reply` a person sees.

    `feed` returns what each step changed (`Update`); `finish` ends the reply and returns
    the last change with the finished reply. The builder owns the reply while it streams:
    `snapshot` copies it out (for saving), front ends only see updates."""

    def __init__(self, reasoning_tags: ReasoningTagsParam = None) -> None:
        self._reply = Reply()
        self._splitter = ReasoningSplitter.for_param(reasoning_tags)
        self._content = VisibleText()
        self._reasoning = Text()
        self._streamed = False  # an SSE line was seen: Open WebUI strips the streamed text
        self._parts_changed = False  # a step changed what `ReplyParts` holds
        self._activity = CappedActivity(self._reply.activity)
        self._event_handlers: dict[str, Callable[[Any], Update]] = {
            "status": self._on_status,
            "message": self._on_message,
            "chat:message:delta": self._on_message,
            "replace": self._on_replace,
            "chat:message": self._on_replace,
            "source": self._on_source,
            "citation": self._on_source,
            "notification": self._on_notification,
            "files": self._on_files,
            "chat:message:files": self._on_message_files,
            "embeds": self._on_embeds,
            "chat:message:embeds": self._on_embeds,
            "chat:title": self._on_title,
            "chat:message:follow_ups": self._on_follow_ups,
            "chat:message:error": self._on_message_error,
            "chat:completion": self._on_completion,
            OUTLET_EVENT: self._on_outlet,
        }
        self._outlet_content: str | None = None  # the outlets' final content: kept as is

    def snapshot(self) -> Reply:
        """A copy of the reply so far. Joins the text: take one per save, not per step."""
        reply = self._reply
        return replace(
            reply,
            content=self._content.read(),
            reasoning=self._reasoning.read(),
            usage=dict(reply.usage) if reply.usage is not None else None,
            statuses=list(reply.statuses),
            sources=list(reply.sources),
            code_executions=list(reply.code_executions),
            notifications=list(reply.notifications),
            files=list(reply.files),
            embeds=list(reply.embeds),
            follow_ups=list(reply.follow_ups),
            activity=list(reply.activity),
        )

    @property
    def activity(self) -> list[ActivityEntry]:
        """Every activity entry so far, in order (append-only: read new ones by index)."""
        return self._reply.activity

    def feed(self, step: Step) -> Update:
        update = self._feed(step)
        if self._parts_changed:
            self._parts_changed = False
            update = replace(update, parts=self._parts())
        return update

    def _feed(self, step: Step) -> Update:
        match step:
            case SseStep():
                return self._feed_sse(step)
            case EventStep():
                return self._dispatch_event(step.event, step.at, step.source)
            case CallStep():
                entry = self._log("call", {"call": step.event, "reply": step.reply}, step.at, step.source)
                return Update(event=entry)
            case ResponseStep():
                return self._feed_response(step)
            case LogStep():
                record = step.record
                if "request" in record:
                    return Update(event=self._log("request", record["request"], step.at))
                return Update(event=self._log("log", record, step.at))
            case RaisedStep():
                # Open WebUI shows exactly str(e); the text received so far stays.
                detail = {"type": step.type, "message": step.message}
                return self._record_error(step.message, detail, step.traceback or None, step.at)
            case _:
                assert_never(step)

    def finish(self, status: ReplyStatus | None = None) -> Finished:
        """End of the invocation: release held-back text and settle the status."""
        self._activity.close()
        visible, reasoning = self._splitter.flush()
        released = self._content.append(visible, streamed=self._streamed)
        self._reasoning.append(reasoning)
        final, rest, replaces = self._content.finish(streamed=self._streamed)
        if self._outlet_content is not None and self._outlet_content != final:
            final, rest, replaces = self._outlet_content, self._outlet_content, True
        reply = self._reply
        reply.content, reply.reasoning = final, self._reasoning.read()
        reply.status = status or ("error" if reply.error is not None else "done")
        if replaces:
            update = Update(replaced=final, reasoning=reasoning, parts=self._parts())
        else:
            update = Update(text=released + rest, reasoning=reasoning, parts=self._parts())
        return Finished(update, reply)

    def _parts(self) -> ReplyParts:
        return self._reply.parts

    # -- the wire ---------------------------------------------------------------------
    def _feed_sse(self, step: SseStep) -> Update:
        # Open WebUI treats each item as one SSE line, not as a byte stream to re-frame.
        self._streamed = True
        text = step.text
        if not text.strip():
            return NO_CHANGE
        if not text.startswith("data:"):
            body = json_or_none(text)
            if isinstance(body, dict) and body.get("error"):
                return self._record_error(wire_error_text(body["error"]), body["error"], step.traceback, step.at)
            return NO_CHANGE
        # Lines that are not a JSON object (`data: [DONE]`, `data: hello`) are silently skipped.
        chunk = json_or_none(text[len("data:") :].strip())
        return self._on_chunk(chunk, step) if isinstance(chunk, dict) else NO_CHANGE

    def _on_chunk(self, chunk: dict[str, Any], step: SseStep) -> Update:
        if "event" in chunk:  # a pipe may yield {"event": ...} to emit through the stream
            return self._dispatch_event(chunk["event"], step.at)
        self._merge_usage(chunk.get("usage"), chunk.get("timings"))  # timings: llama.cpp
        choices = chunk.get("choices")
        if not choices:
            error = chunk.get("error")
            if error:
                return self._record_error(wire_error_text(error), error, step.traceback, step.at)
            return NO_CHANGE
        choice = first_choice(choices)
        if choice is None:
            return NO_CHANGE
        self._note_finish_reason(choice)
        delta = choice.get("delta")  # a `message` in a stream is ignored, as in Open WebUI
        if not isinstance(delta, dict):
            return NO_CHANGE
        reasoning = delta.get("reasoning_content") or delta.get("reasoning") or delta.get("thinking")
        return self._append(as_text(delta.get("content")), as_text(reasoning))

    def _feed_response(self, step: ResponseStep) -> Update:
        data = step.data
        if not isinstance(data, dict):
            return NO_CHANGE
        if data.get("error"):
            return self._record_error(wire_error_text(data["error"]), data["error"], step.traceback, step.at)
        self._merge_usage(data.get("usage"))
        choice = first_choice(data.get("choices"))
        if choice is None:
            return NO_CHANGE
        self._note_finish_reason(choice)
        message = choice.get("message")
        if not isinstance(message, dict):
            return NO_CHANGE
        reasoning = as_text(message.get("reasoning_content"))
        content = as_text(message.get("content"))
        # Only a non-empty completion replaces what message events built, as in Open WebUI.
        return self._replace(content, reasoning) if content else self._append("", reasoning)

    # -- events -----------------------------------------------------------------------
    def _dispatch_event(self, event: Any, at: float, source: dict[str, Any] | None = None) -> Update:
        entry = self._log("event", event, at, source)
        change = self._apply_event(event)
        if change is NO_CHANGE:
            return Update(event=entry) if entry is not None else NO_CHANGE
        return replace(change, event=entry)

    def _apply_event(self, event: Any) -> Update:
        # A malformed event is only listed in the activity: a pipe's mistake must not end the reply.
        if not isinstance(event, dict):
            return NO_CHANGE
        kind = event.get("type")
        handler = self._event_handlers.get(kind) if isinstance(kind, str) else None
        return handler(event.get("data")) if handler is not None else NO_CHANGE

    def _on_status(self, data: Any) -> Update:
        if isinstance(data, dict):
            keep_status(self._reply.statuses, data)
            self._parts_changed = True
        return NO_CHANGE

    def _on_message(self, data: Any) -> Update:
        text = event_content(data)
        return self._append(text) if text else NO_CHANGE

    def _on_replace(self, data: Any) -> Update:
        text = event_content(data)
        return self._replace(text) if text is not None else NO_CHANGE

    def _on_source(self, data: Any) -> Update:
        if not isinstance(data, dict):
            return NO_CHANGE
        if data.get("type") != "code_execution":
            self._reply.sources.append(data)
            self._parts_changed = True
            return NO_CHANGE
        executions = self._reply.code_executions
        for index, existing in enumerate(executions):
            if existing.get("id") == data.get("id"):
                executions[index] = data  # a later event for the same run updates it
                return NO_CHANGE
        executions.append(data)
        return NO_CHANGE

    def _on_notification(self, data: Any) -> Update:
        if isinstance(data, dict):
            self._reply.notifications.append(data)
        return NO_CHANGE

    def _on_files(self, data: Any) -> Update:
        # As Open WebUI stores the message: the event's files, then the ones it had (the
        # emitter extends the pipe's own list the same way). Its live view shows only the last set.
        files = data.get("files") if isinstance(data, dict) else None
        if isinstance(files, list):
            self._reply.files[:0] = [item for item in files if isinstance(item, dict)]
        return NO_CHANGE

    def _on_message_files(self, data: Any) -> Update:
        # Not stored by Open WebUI; shown, in arrival order.
        files = data.get("files") if isinstance(data, dict) else None
        if isinstance(files, list):
            self._reply.files.extend(item for item in files if isinstance(item, dict))
        return NO_CHANGE

    def _on_embeds(self, data: Any) -> Update:
        if not isinstance(data, dict) or not isinstance(data.get("embeds"), list):
            return NO_CHANGE
        if data.get("replace"):
            self._reply.embeds.clear()
        self._reply.embeds.extend(data["embeds"])
        return NO_CHANGE

    def _on_title(self, data: Any) -> Update:
        if isinstance(data, str):
            self._reply.title = data
        return NO_CHANGE

    def _on_follow_ups(self, data: Any) -> Update:
        follow_ups = data.get("follow_ups") if isinstance(data, dict) else None
        if isinstance(follow_ups, list):
            self._reply.follow_ups = [item for item in follow_ups if isinstance(item, str)]
            self._parts_changed = True
        return NO_CHANGE

    def _on_message_error(self, data: Any) -> Update:
        error = data.get("error") if isinstance(data, dict) else None
        if not error:
            return NO_CHANGE
        self._set_error(wire_error_text(error), error, None)
        return NO_CHANGE

    def _on_outlet(self, data: Any) -> Update:
        """The chat path's outlets rewrote the reply: their content is final, unstripped."""
        text = event_content(data)
        if text is None:
            return NO_CHANGE
        self._outlet_content = text
        return self._replace(text)

    def _on_completion(self, data: Any) -> Update:
        # `done` needs nothing here: `finish` settles the status when the invocation ends.
        if not isinstance(data, dict):
            return NO_CHANGE
        self._merge_usage(data.get("usage"))
        error = data.get("error")
        if not error:
            return NO_CHANGE
        self._set_error(wire_error_text(error), error, None)
        return NO_CHANGE

    # -- state ------------------------------------------------------------------------
    def _append(self, text: str, reasoning: str = "") -> Update:
        # Out-of-band reasoning first: the text that follows it is what closes its block.
        reasoning = self._splitter.feed_reasoning(reasoning) if reasoning else ""
        visible, tagged = self._splitter.feed(text) if text else ("", "")
        reasoning += tagged
        shown = self._content.append(visible, streamed=self._streamed)
        self._reasoning.append(reasoning)
        return Update(text=shown, reasoning=reasoning) if shown or reasoning else NO_CHANGE

    def _replace(self, text: str, reasoning: str = "") -> Update:
        reasoning = self._splitter.feed_reasoning(reasoning) if reasoning else ""
        self._splitter.reset()  # a half-seen tag in the old text must not swallow the new one
        visible, tagged = self._splitter.feed(text)
        reasoning += tagged
        shown = self._content.replace(visible, streamed=self._streamed)
        self._reasoning.append(reasoning)
        return Update(replaced=shown, reasoning=reasoning)

    def _note_finish_reason(self, choice: dict[str, Any]) -> None:
        if choice.get("finish_reason") is not None:
            self._reply.finish_reason = as_text(choice["finish_reason"])

    def _merge_usage(self, *values: Any) -> None:
        for value in values:
            if isinstance(value, dict) and value:
                if self._reply.usage is None:
                    self._reply.usage = {}
                self._reply.usage.update(value)
                self._parts_changed = True

    def _log(self, kind: ActivityKind, data: Any, at: float, source: dict[str, Any] | None = None) -> ActivityEntry | None:
        return self._activity.add(kind, data, at, source)

    def _set_error(self, text: str, detail: Any, traceback: str | None) -> None:
        self._parts_changed = True
        self._reply.error = text
        self._reply.error_detail = detail
        self._reply.traceback = traceback

    def _record_error(self, text: str, detail: Any, traceback: str | None, at: float) -> Update:
        """An error from the wire: shown under the reply and listed in the activity."""
        self._set_error(text, detail, traceback)
        entry = self._log("error", {"message": text, "traceback": traceback}, at)
        return Update(event=entry)


def reply_from_steps(steps: Iterable[Step], reasoning_tags: ReasoningTagsParam = None) -> Reply:
    """The finished reply for a complete list of steps (a stored trace, a test)."""
    builder = ReplyBuilder(reasoning_tags)
    for step in steps:
        builder.feed(step)
    return builder.finish().reply
