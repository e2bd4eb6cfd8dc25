"""One assistant reply on screen: its Markdown text, thought, status, sources, usage and error.

A stored reply renders once. A streaming reply renders what the runtime says changed: the
chat screen passes it every `Update` (`apply`, which only buffers) and then the turn's
`Finished` (`finish`). Buffered changes are written to the screen soon after they arrive —
at once when the view is idle, at most every MIN_INTERVAL under a fast stream — so each token
shows within a frame or two, and a burst of tokens costs one write. The text is written into
a `ReplyText` (see there for what a write costs). The view keeps no copy of the reply's
state: what it shows is what the updates said, and `reply` is the finished reply. Of a huge
reply only the start is shown, with a note saying so (`display_cap`).

Everything here was written by the pipe (or the remote model behind it), so its control
characters are shown, not obeyed (`untrusted.neutralise`): Textual drops BEL, backspace and
CR itself but hands ESC and C1 to the terminal, which would clear the screen, set its title
or write the clipboard. The text is neutralised as it comes, chunk by chunk.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Collapsible, Label, Markdown, Static

from tuichat.runtime.reply.details import Piece
from tuichat.runtime.reply.model import Finished, Reply, Update
from tuichat.runtime.untrusted import neutralise
from tuichat.store.branches import Version
from tuichat.ui.widgets.display_cap import ShownPart, cut_note, shown_start
from tuichat.ui.widgets.fold import FoldsAbove
from tuichat.ui.widgets.gc_hold import gc_hold
from tuichat.ui.widgets.reply_parts import parts_text, version_label
from tuichat.ui.widgets.reply_pieces import ReplyPieces, files_of, stored_text
from tuichat.ui.widgets.reply_text import ReplyText
from tuichat.ui.widgets.reply_thinking import Thinking
from tuichat.ui.widgets.rich_pieces import DetailsFold
from tuichat.ui.widgets.settled import KeptLines, Settled
from tuichat.ui.widgets.stored_markdown import StoredMarkdown
from tuichat.ui.widgets.when import stamp


class ReplyView(KeptLines, Settled, Widget):
    """One assistant reply, stored (rendered once) or streaming (`apply`, then `finish`)."""

    MIN_INTERVAL = 0.04  # seconds: writes come at most this often while tokens stream
    SPIN_INTERVAL = 0.2  # seconds between spinner frames while a status says work goes on
    FOLD_LEAST = 1.0  # fold what the stream scrolled past in runs of this many screens or more

    DEFAULT_CSS = """
    ReplyView {
        height: auto;
        & > .model { padding: 0 2; color: $text-accent; text-style: bold; }
        /* A stream layout keeps the placements of the blocks above the one that changed. */
        & > Markdown#content, & > Markdown.rich-text { layout: stream; }
        & > #error {
            margin: 0 2;
            padding: 0 1;
            color: $text-error;
            background: $error-muted;
            border-left: outer $error;
            text-style: bold;
            &.-stopped { color: $text-warning; background: $warning-muted; border-left: outer $warning; }
        }
        & > #status, & > #sources, & > #usage { padding: 0 2; color: $text-muted; }
        & > #cut { padding: 0 2; color: $text-warning; text-style: italic; }
        & > #follow_ups { padding: 0 2; color: $text-secondary; }
        & > #status.-busy { color: $text; }
    }
    """

    def __init__(
        self,
        reply: Reply | None = None,
        *,
        model_name: str = "",
        streaming: bool = False,
        created_at: float | None = None,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.reply = reply if reply is not None else Reply()
        self.model_name = model_name
        self.created_at = created_at  # when the reply was started (shown beside the model)
        self.version: Version | None = None  # which of its siblings it is, when it has any
        self.streaming = streaming
        self.message_id: str | None = None  # the stored message this view shows, once known
        self.model_id: str | None = None  # the stored reply's model (named by `model_name`)
        self._parts = self.reply.parts
        # Text, folds and images to add at the next write (see runtime.reply.details).
        self._pending: list[Piece] = []
        self._restart = False  # start over at the next write (the text was replaced)
        self._pieces = ReplyPieces(self)
        self._thinking = Thinking()
        self._text_part, self._thought_part = ShownPart(), ShownPart()  # what of each is shown
        self._text_part.add(self.reply.content)
        self._parts_changed = False
        self._spin = 0
        self._write_lock = asyncio.Lock()
        self._due = asyncio.Event()  # something was applied that is not on screen yet
        self._spin_timer: Timer | None = None
        self._scroller: ScrollableContainer | None = None
        self._fold_height = -1  # the conversation's height at the last fold
        self._holds_gc = False
        self.sources_folded = False  # the sources list shrunk to one line (the `s` key)

    def compose(self) -> ComposeResult:
        # A streaming reply composes every part, hidden until it has something to show;
        # a stored one only the parts it has (widget count is what slows long chats).
        reply, live = self.reply, self.streaming
        if self.model_name or self.version is not None or self.created_at is not None:
            yield Label(self._heading(), classes="model", markup=False)
        if live or reply.reasoning:
            with Collapsible(title="Thinking…" if live else "Thought", id="thought") as thought:
                thought.display = bool(reply.reasoning)
                yield StoredMarkdown(neutralise(shown_start(reply.reasoning)))
        if live:
            yield ReplyText(id="content")
        else:
            yield from stored_text(shown_start(reply.content), reply.files)
        if live or self._text_part.cut:
            yield Static(id="cut", markup=False)
        for part, text in parts_text(self._parts).items():
            if live or text:
                yield Static(id=part, markup=False)

    def set_model_name(self, name: str) -> None:
        """Name the model anew (the models were listed after this reply was shown)."""
        if name != self.model_name:
            self.model_name = name
            for label in self.query_children(".model").results(Label):
                label.update(self._heading())

    def _heading(self) -> Content:
        """`Echo · 14:05`: the model (a pipe named it: shown, not obeyed), which version the
        reply is when it has siblings, and the time."""
        name = version_label(neutralise(self.model_name), self.version)  # `Echo  ‹ 2/3 ›`
        if self.created_at is None:
            return Content(name)
        time = stamp(self.created_at)
        return Content.assemble(name, (f" · {time}" if name else time, "not bold dim"))

    def on_mount(self) -> None:
        self._show_parts()
        self._show_cut()
        if self.streaming:
            self._holds_gc = True
            gc_hold.hold()
            self._scroller = next((a for a in self.ancestors if isinstance(a, ScrollableContainer)), None)
            if self._scroller is not None:
                self.watch(self._scroller, "scroll_y", self._scrolled, init=False)
            self.run_worker(self._write_loop(), group="reply-writes", exit_on_error=False)

    def on_unmount(self) -> None:
        self._release_gc()
        self._unwatch_scroll()

    def _unwatch_scroll(self) -> None:
        """Stop watching the conversation's scrolling. Textual drops a watcher only when the
        watched value next changes, after its widget has closed: until then it holds the
        widget, and so the reply, after its chat is closed (the soak saw ~10 MB a chat)."""
        scroller, self._scroller = self._scroller, None
        watchers = getattr(scroller, "__watchers", {}).get("scroll_y") if scroller is not None else None
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node is not self]

    @property
    def shown_text(self) -> str:
        """The Markdown source on screen (a streaming text's, less a fence's opening line
        still waiting for its end)."""
        shown = []
        for child in self.children:
            if isinstance(child, ReplyText):
                shown.append(child.shown)
            elif isinstance(child, Markdown) and (child.id == "content" or child.has_class("rich-text")):
                shown.append(child.source)
        return "".join(shown)

    # -- streaming --------------------------------------------------------------------
    def apply(self, update: Update) -> None:
        """Take one change to the reply. Only buffers it and makes sure a write is due."""
        if update.replaced is not None:
            self._restart = True
            self._pending.clear()
            self._pieces.restart()
            self._pending += self._pieces.splitter.feed(neutralise(self._text_part.restart(update.replaced)))
        elif update.text:
            shown = neutralise(self._text_part.add(update.text))
            if shown:
                self._pending += self._pieces.splitter.feed(shown)
        if update.reasoning:
            shown = neutralise(self._thought_part.add(update.reasoning))
            if shown:
                self._thinking.pending.append(shown)
        if update.parts is not None:
            self._parts = update.parts
            self._parts_changed = True
        self._pieces.files += files_of(update.event)
        self._due.set()

    async def finish(self, finished: Finished, *, large: bool = False) -> None:
        """End the stream: the last change, the final render, the finished reply's parts.
        `large`: a flood, whose garbage is collected in full (`gc_hold`)."""
        self.apply(finished.update)
        self._pending += self._pieces.splitter.flush()
        self.reply, self._parts = finished.reply, finished.reply.parts
        self._text_part.total = len(self.reply.content)  # (stripped at the end, as stored)
        self.streaming = False
        self._stop_spinner()
        self._due.set()  # the write loop ends (a write under way finishes first)
        if self.is_attached:
            await self._write(final=True)  # the rest sealed, laid out on its own:
            await self._painted()
            with self.app.batch_update():  # then the blank lines kept under it go
                await self._pieces.text.end()
            await self._thinking.stop()
            self._pieces.finish()
            # What the stream folded stays folded until the user scrolls up to it: shown now,
            # its widgets would be walked by every later layout (the next reply's too), and
            # taking them back cost the finish its worst stall (93 ms for 12k characters).
            if not any(text.folding.folds for text in self.query_children(ReplyText)):
                self._unwatch_scroll()
            if self.reply.reasoning:
                thought = self.query_one("#thought", Collapsible)
                thought.display, thought.title = True, "Thought"
        else:  # removed mid-stream (another chat was opened): just end the stream
            await self._thinking.stop()
        self._release_gc(full=large)

    async def _write_loop(self) -> None:
        """Write what was applied as soon as something is, then at most every MIN_INTERVAL;
        once a write is on screen, what needs a layout (`ReplyText.tidy`), with what came
        meanwhile: the layout paints it."""
        loop = asyncio.get_running_loop()
        while self.streaming:
            await self._due.wait()
            self._due.clear()
            if not self.streaming:
                return  # `finish` writes the rest
            started = loop.time()
            await self._write()
            if self._pieces.text.untidy:  # a layout is due: once this write is painted
                await self._painted()
                if self.streaming and await self._write(tidy=True):
                    await self._painted()  # its layout, before the next write
            # From the write's start: a write's own time must not add to a token's wait.
            await asyncio.sleep(max(0.0, started + self.MIN_INTERVAL - loop.time()))

    async def _painted(self, longest: float = 0.2) -> None:
        """Until the screen has been refreshed (at most `longest` seconds: a screen on top)."""
        painted = asyncio.get_running_loop().create_future()
        self.call_after_refresh(lambda: painted.done() or painted.set_result(None))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(painted, longest)

    def _stop_spinner(self) -> None:
        if self._spin_timer is not None:
            self._spin_timer.stop()
            self._spin_timer = None

    async def _write(self, *, final: bool = False, tidy: bool = False) -> bool:
        """Put what was buffered on screen, in one refresh (`tidy`: with the text's layout
        due, `ReplyText.tidy`, first). Whether the text was tidied."""
        async with self._write_lock:
            restart, self._restart = self._restart, False
            pending, self._pending = self._pending, []
            # One layout and repaint per write: a render awaits Markdown's parse and mounts,
            # so without the batch the screen would refresh between them.
            with self.app.batch_update():
                text = self._pieces.text
                if tidy and self.streaming and text.topping_up:
                    # Folded in the layout a top-up costs: a fold of its own was one more
                    # (9 of the ~70 a 12k-character reply cost). Not with a seal's: that
                    # is a reply's longest stall already (~60 ms), and a fold adds to it.
                    self._fold(text)
                tidied = tidy and await text.tidy()
                if restart:
                    await self._pieces.start_over()
                chunk = await self._pieces.write(pending)
                text = self._pieces.text
                if chunk:
                    await text.write(chunk)
                if final:
                    await text.seal_rest()
                if self._thinking.pending:
                    thought = self.query_one("#thought", Collapsible)
                    thought.display = True
                    await self._thinking.write(thought.query_one(Markdown))
                if self._pieces.files:
                    await self._pieces.show_files()
                if self._parts_changed or final:
                    self._parts_changed = False
                    self._show_parts()
                if self._text_part.cut or final:
                    self._show_cut()
        return tidied

    # -- folding and garbage collection while streaming --------------------------------------
    def _fold(self, text: ReplyText) -> None:
        """Fold the segments more than a screen above the viewport while the conversation
        follows the stream (at the bottom, anchored)."""
        scroller = self._scroller
        if scroller is None or scroller.virtual_size.height == self._fold_height:
            return  # nothing moved up since the last look: most writes take blank lines kept
        at_end = scroller.is_anchored and scroller.scroll_y >= scroller.max_scroll_y
        if self.streaming and at_end:
            self._fold_height = scroller.virtual_size.height
            # What ends half a screen above the view, at least (see Conversation.fold_above).
            top = scroller.region.y - scroller.region.height // 2
            text.folding.fold(top, least=int(scroller.region.height * self.FOLD_LEAST))
            if isinstance(scroller, FoldsAbove):  # the conversation: the messages above this one
                scroller.fold_above()

    def _scrolled(self, old: float, new: float) -> None:
        """Watched from the mount of a streaming reply until what it folded is shown again
        once it has ended (or it is unmounted)."""
        if new < old:  # the user scrolls up: show everything (the anchor only moves down)
            for text in self.query_children(ReplyText):
                text.folding.unfold()
            if not self.streaming:  # nothing more to fold: a long session's replies each
                # watching every scroll would add up (later: Textual is looping over its watchers)
                self.call_later(self._unwatch_scroll)

    def _release_gc(self, *, full: bool = False) -> None:
        if self._holds_gc:
            self._holds_gc = False
            gc_hold.release(full=full)

    # -- folds: the thought and the sources, opened and closed by keys -----------------------
    def can_fold(self, part: str) -> bool:
        """Whether this reply has `part` ("thought", "sources" or "details": its folds) to
        open or close."""
        if part == "thought":
            return any(w.display for w in self.query_children("#thought"))
        if part == "details":
            return bool(self.query_children(DetailsFold))
        return part == "sources" and bool(self._parts.sources)

    def toggle_fold(self, part: str) -> None:
        """Open `part` if it is closed, close it if it is open."""
        if part == "thought":
            for thought in self.query_children("#thought").results(Collapsible):
                thought.collapsed = not thought.collapsed
        elif part == "sources":
            self.sources_folded = not self.sources_folded
            self._show_parts()
        elif part == "details":  # open them all if any is closed, else close them all
            folds = list(self.query_children(DetailsFold).results(DetailsFold))
            opening = any(not fold.open for fold in folds)
            for fold in folds:
                if fold.open != opening:
                    fold.toggle()

    # -- what is under the text ----------------------------------------------------------
    def _show_cut(self) -> None:
        """The note under a reply longer than what is shown (how long, how to read it all)."""
        part = self._text_part
        text = cut_note(part.total, part.shown, streaming=self.streaming) if part.cut else ""
        for widget in self.query_children("#cut").results(Static):
            if str(widget.content) != text:
                # While streaming only the figures change: a repaint, not a layout.
                widget.update(text, layout=not (self.streaming and str(widget.content)))
            widget.display = bool(text)

    def set_follow_ups(self, suggestions: list[str]) -> None:
        """Suggestions a background task made after the reply ended (they replace any the
        pipe sent, as on Open WebUI's page)."""
        self.reply.follow_ups = list(suggestions)
        self._parts = self.reply.parts
        if not self.query_children("#follow_ups"):
            self.mount(Static(id="follow_ups", markup=False))
            self.call_after_refresh(self._show_parts)
        self._show_parts()

    def _show_parts(self) -> None:
        spinning = self.streaming and self._parts.busy
        for part, text in parts_text(self._parts, self._spin if spinning else None).items():
            if part == "sources" and text and self.sources_folded:
                text = f"▶ Sources ({len(text.splitlines())})"
            for widget in self.query_children(f"#{part}").results(Static):
                shown = str(widget.content)
                if text != shown:
                    widget.update(text, layout=text[1:] != shown[1:])  # a new spinner frame needs no layout
                widget.display = bool(text)
                widget.set_class(part == "error" and self._parts.error is None, "-stopped")
                widget.set_class(part == "status" and spinning, "-busy")
        if spinning and self._spin_timer is None:
            self._spin_timer = self.set_interval(self.SPIN_INTERVAL, self._next_spin, name="reply spinner")
        elif not spinning:
            self._stop_spinner()

    def _next_spin(self) -> None:
        self._spin += 1
        self._show_parts()
