"""The messages of one chat, newest at the bottom.

Widget count is what makes long chats slow: every layout walks every widget shown. So only
the last WINDOW messages are mounted at first; scrolling to the top mounts the previous
window, a few messages per frame; what the user scrolled up past, far below the viewport,
is folded (hidden behind one blank spacer of its height) until they scroll back down to it;
and while a reply streams at the end, the messages it pushed up out of view are folded
until the user scrolls up (each of the reply's layouts walked them: a reply under a 12k-
character one cost 47% of a core against 29% alone, bench/tui_stream.py). A stored reply
mounts only the parts it has, and renders its Markdown once.
An empty conversation shows the welcome (`Welcome`) until its first message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.scrollbar import ScrollBar
from textual.widget import Widget

from tuichat.runtime.reply.model import Reply
from tuichat.store import MessageRow
from tuichat.store.branches import Version
from tuichat.ui.widgets.closed_chats import ClosedChats
from tuichat.ui.widgets.fold import Fold, FoldBelow
from tuichat.ui.widgets.gc_hold import gc_hold
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.reply_text import ReplyText
from tuichat.ui.widgets.settled import KeptLines, KeptScrollBar, all_mounted, keep_lines, settle
from tuichat.ui.widgets.user_message import UserMessage
from tuichat.ui.widgets.welcome import Welcome

WINDOW = 20  # messages mounted at once when a chat opens, and per earlier window
BATCH = 4  # messages of an earlier window mounted per frame
BEFORE_FOUND = 2  # messages mounted above the one a chat is opened at (a search hit)


class Conversation(KeptLines, VerticalScroll):
    """Focused (Tab from the prompt), its keys fold the selected reply's parts (ctrl+up/down
    select another) and Esc goes back to the prompt; the footer shows which apply."""

    BINDINGS = [
        Binding("t", "fold('thought')", "Thought", id="reply.thought"),
        Binding("s", "fold('sources')", "Sources", id="reply.sources"),
        Binding("d", "fold('details')", "Details", id="reply.details"),
        Binding("escape", "leave", "Prompt", id="conversation.leave"),
    ]

    class Left(Message):
        """Esc: the user is done reading (focus goes back to the prompt)."""

    DEFAULT_CSS = """
    Conversation {
        layout: stream;
        height: 1fr;
        padding: 0 1;
    }
    /* A reply keeps a blank left edge, so marking it recolours the edge and nothing else: an
       edge added or removed lays the screen out (every widget of every message), and one that
       takes room narrows the reply, a layout of all its blocks (640 for a long one); a
       background changed repaints each of them. */
    Conversation ReplyView {
        margin: 1 0 0 0;
        border-left: blank;
    }
    /* The message a search opened the chat at. */
    Conversation .-found {
        border-left: thick $warning;
        background: $warning 12%;
    }
    /* The message cursor (ctrl+up / ctrl+down), once moved: what F5 copies. */
    Conversation ReplyView.-cursor {
        border-left: thick $accent;
    }
    Conversation UserMessage.-cursor {
        border-left: thick $foreground;
        background: $accent 25%;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, can_focus=True)
        self._messages: list[MessageRow] = []
        self._first_mounted = 0
        self._mounting = False
        self._below = FoldBelow(self)
        self._above = Fold(self)  # what a streaming reply pushed up out of view
        self._closed_chats = ClosedChats(self)  # the chat shown before, freed once this one is painted
        self.model_names: Callable[[str | None], str] = lambda model_id: model_id or ""
        self.versions: dict[str, Version] = {}

    def compose(self) -> ComposeResult:
        yield Welcome()

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's (as `Widget.vertical_scrollbar` makes it), keeping its lines: Textual
        repaints every widget whose clip overlaps a change, so each write of a streaming reply
        rendered the bar's 40 lines anew (0.25 ms a write, 3% of a stream's CPU)."""
        if self._vertical_scrollbar is None:
            bar = KeptScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    def watch_has_focus(self, _has_focus: bool) -> None:
        """Restyled alone: only its own outline depends on its focus, and Textual restyles
        every widget inside (1.5 s for a chat of three 12,000-character replies)."""
        self.app.stylesheet.update_nodes([self], animate=True)

    @property
    def first_mounted(self) -> int:
        """The index of the earliest stored message mounted (0: all the earlier ones are)."""
        return self._first_mounted

    @property
    def folded(self) -> int:
        """How many messages are folded below the viewport."""
        return self._below.folded

    @property
    def folded_above(self) -> int:
        """How many messages a streaming reply pushed up out of view are folded."""
        return self._above.folded

    @property
    def mounting(self) -> bool:
        """An earlier window of messages is being mounted."""
        return self._mounting

    def unfold(self) -> None:
        """Show every message folded, above the viewport and below."""
        self._above.unfold()
        self._below.unfold()

    async def show(
        self, messages: list[MessageRow], versions: Mapping[str, Version] | None = None, at: str | None = None
    ) -> Widget | None:
        """Replace what is shown with a stored chat's messages: the last window, or with `at`
        (a message id) from that message on, scrolled to it and marked; returns its widget.
        `versions`: which version each message with siblings is."""
        self.workers.cancel_group(self, "history")  # earlier windows of the chat shown so far
        self._messages = messages
        self.versions = dict(versions or {})
        self._first_mounted = max(0, len(messages) - WINDOW)
        index = next((i for i, m in enumerate(messages) if m.id == at), None) if at else None
        if index is not None:  # from a little before it: scrolling up from there mounts more
            self._first_mounted = max(0, min(self._first_mounted, index - BEFORE_FOUND))
        self._closed_chats.closing()
        widgets = [self._widget_for(m) for m in messages[self._first_mounted :]]
        # Laid out once, with every block composed (`settle`): a layout between the levels of
        # widgets that compose (a reply, its Markdown, a list's items), then each new widget's
        # second, cost the open up to 8 of them.
        with self.app.batch_update():
            if self.children:
                await self.remove_children()
                self._forget_layouts()
            self._below.forget()
            self._above.forget()
            await self.mount_all(widgets or [Welcome()])
            await all_mounted(self)
            for widget in self.children:
                settle(widget, for_good=False)
                keep_lines(widget)
            if self._overflows(messages[self._first_mounted :]):
                # Shown before the first layout: shown after it, the scrollbar narrows every
                # message, and each lays the screen out again (two more layouts).
                self.show_vertical_scrollbar = self.vertical_scrollbar.display = True
        found = widgets[index - self._first_mounted] if index is not None else None
        if found is None:
            self.anchor()
        else:
            found.add_class("-found")
            self.anchor(False)
            await self._refreshed()  # placed: its region is known
            self.scroll_to_widget(found, top=True, animate=False, immediate=True)
        # Collected once the screen has laid out the new chat: until then its compositor still
        # names the removed widgets, which were frozen with the new chat when they were
        # collected here, before it was mounted, and freed only when another chat was opened.
        self._closed_chats.shown()
        return found

    def _overflows(self, messages: Sequence[MessageRow]) -> bool:
        """Whether `messages` will take more lines than the view holds: their text's lines
        wrapped at the view's width, margins left out (a `<details>` fold shows fewer). A
        wrong guess costs what not guessing did: the first layout hides the scrollbar again,
        and the messages are laid out once more."""
        width, height = self.scrollable_content_region.size
        if width <= 0 or height <= 0:
            return False
        lines = 0
        for message in messages:
            lines += sum(len(line) // width + 1 for line in message.content.splitlines())
            if lines > height:
                return True
        return False

    def _forget_layouts(self) -> None:
        """Textual keeps what it last laid out, to reuse: the arrangement cache, and the stream
        layout's placements (kept as they were when there is nothing to lay out, as after a
        new chat). Both name the removed widgets, and through them every reply's text and
        activity, so a closed chat stayed in memory until enough new layouts pushed it out."""
        self._clear_arrangement_cache()
        layout = self.styles.layout
        if layout is not None and hasattr(layout, "_cached_placements"):
            layout._cached_placements = None

    def _widget_for(self, message: MessageRow) -> Widget:
        version = self.versions.get(message.id)
        if message.role == "assistant":
            view = ReplyView(
                Reply.from_row(message), model_name=self.model_names(message.model_id), created_at=message.created_at
            )
            view.message_id = message.id
            view.model_id = message.model_id
            view.version = version
            return view
        return UserMessage(message.content, message.id, version, message.created_at, message.files)

    async def drop_from(self, message_id: str, *, keep: bool) -> None:
        """Remove the message `message_id` (or, with `keep`, only what follows it) and all after:
        a regenerated reply or a resent edit replaces them on screen (the store keeps them)."""
        ids = [m.id for m in self._messages]
        if message_id in ids:
            self._messages = self._messages[: ids.index(message_id) + (1 if keep else 0)]
        self._above.unfold()  # (the spacer's height would count what is removed)
        widgets = list(self.children)
        at = next((i for i, w in enumerate(widgets) if getattr(w, "message_id", None) == message_id), None)
        if at is not None:
            await self.remove_children(widgets[at + (1 if keep else 0) :])

    async def add(self, widget: Widget) -> None:
        """Add a message at the end (the welcome goes with the first)."""
        for welcome in self.query_children(Welcome):
            await welcome.remove()
        self._below.unfold()
        await self.mount(widget)
        self.anchor()  # (also after a chat opened at a search hit, which did not anchor)

    def replies(self) -> list[ReplyView]:
        return list(self.query(ReplyView))

    def messages(self) -> list[UserMessage | ReplyView]:
        """The messages mounted, in order (the message cursor moves over them)."""
        return [child for child in self.children if isinstance(child, (UserMessage, ReplyView))]

    def name_models(self) -> None:
        """Name each reply's model as `model_names` does now: a chat opened at start is shown
        before the models are listed, with their ids."""
        for view in self.query_children(ReplyView):
            if view.model_id is not None:
                view.set_model_name(self.model_names(view.model_id))

    # -- keys while focused ----------------------------------------------------------------
    def _selected(self) -> ReplyView | None:
        """The reply the keys act on: the screen's selected one (ctrl+up/down), else the last."""
        selected = getattr(self.screen, "selected_reply", None)
        if isinstance(selected, ReplyView) and selected.is_attached:
            return selected
        replies = self.replies()
        return replies[-1] if replies else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "fold":
            view = self._selected()
            return view is not None and view.can_fold(str(parameters[0]))
        if action == "leave":
            return not getattr(self.screen, "streaming", False)  # then Esc stops the reply
        return True

    def action_fold(self, part: str) -> None:
        view = self._selected()
        if view is not None:
            view.toggle_fold(part)

    def action_leave(self) -> None:
        self.post_message(self.Left())

    async def _mount_earlier(self) -> None:
        """Mount the previous window above the first message, BATCH messages a frame (each
        batch's compose, styles and layout in one frame), keeping what is shown in place;
        then fold what is now far below the viewport."""
        if self._first_mounted == 0 or self._mounting:
            return
        self._mounting = True
        gc_hold.hold()  # full passes would walk every widget (see _GcHold); it freezes them after
        try:
            # A held key keeps scrolling while a window mounts: at the top, go on to the next.
            while self._first_mounted and self.scroll_y <= 0:
                await self._mount_window()
        finally:
            self._mounting = False
            gc_hold.release()

    async def mount_earlier(self) -> bool:
        """Mount the previous window now (the message cursor went above the first message
        mounted); False when there is none."""
        if self._first_mounted == 0 or self._mounting:
            return False
        self._mounting = True
        gc_hold.hold()
        try:
            await self._mount_window()
        finally:
            self._mounting = False
            gc_hold.release()
        return True

    async def _mount_window(self) -> None:
        self._above.unfold()  # (mounted before the spacer, it would sit under the fold)
        start = max(0, self._first_mounted - WINDOW)
        for end in range(self._first_mounted, start, -BATCH):
            begin = max(start, end - BATCH)
            earlier = [self._widget_for(m) for m in self._messages[begin:end]]
            first = self.children[0] if self.children else None
            # Where the view is, from the message at the top: regions are only right once a
            # layout has placed what was mounted, so the view is put back then, moved by as
            # much as the user scrolled meanwhile.
            before = self.scroll_y
            offset = before - first.virtual_region.y if first is not None else 0
            await self.mount_all(earlier, before=first)
            self._first_mounted = begin
            await self._refreshed()
            if first is not None:
                moved = self.scroll_y - before
                self.scroll_to(y=first.virtual_region.y + offset + moved, animate=False, immediate=True)
                await self._refreshed()
            self._below.fold(self.region.bottom + self.region.height)
            self.call_after_refresh(self._unfold_near, False)  # the view may have jumped meanwhile

    async def _refreshed(self) -> None:
        """Wait for the next refresh of the screen (layout and paint)."""
        refreshed = asyncio.get_running_loop().create_future()
        self.call_after_refresh(lambda: refreshed.done() or refreshed.set_result(None))
        await refreshed

    def on_unmount(self) -> None:
        self._closed_chats.drop()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new < old and self._above.folds:  # the user scrolls up (following, the view only moves down)
            self._above.unfold()
        if new <= 0 and old > 0:
            self.run_worker(self._mount_earlier(), group="history", exclusive=False)
        if new > old and self._below.spacer is not None:
            # Once laid out: the spacer may be new, and regions are placed for the last layout.
            self.call_after_refresh(self._unfold_near)

    def fold_above(self) -> None:
        """While the view follows a streaming reply at the end, fold the messages it pushed
        up out of view, in runs of a screen or more (each fold costs a layout or two). Called
        by the reply after its writes: a view that follows (anchored) scrolls without telling
        `watch_scroll_y`."""
        if self.is_anchored and self.scroll_y >= self.max_scroll_y and not self._mounting:
            # Half a screen above the view at least: the end of the reply gives back the blank
            # lines kept under it (a quarter of a screen), and the view follows it up; a fold
            # it came onto would have to show the messages again (a 12k-character one: 0.1 s).
            self._above.fold(self.region.y - self.region.height // 2, least=self.region.height)

    def on_resize(self) -> None:
        if self._above.folds and self.size.width != self._above.width:
            self._above.unfold()  # its spacer's height is stale at a new width

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        if virtual_size.height < self.virtual_size.height:  # a reply's end, a fold closed
            self.call_after_refresh(self._unfold_shown)
        # A layout that changed its virtual size has placed its children already (and
        # scrolled an anchored view): Textual's second layout for it would change nothing.
        return super()._size_updated(size, virtual_size, container_size, layout=False)

    def _unfold_shown(self) -> None:
        """Show what was folded above the view that the view has come onto: following the
        end, it moves up when what is under it shrinks. A fold at a time, nearest first."""
        top = self.region.y
        shown = self._above.unfold_shown(top)
        for view in self.query_children(ReplyView):  # (a message at a time, not every widget)
            for text in view.query_children(ReplyText).results(ReplyText):
                shown = text.folding.unfold_shown(top) or shown
        if shown:
            self.call_after_refresh(self._unfold_shown)

    def _unfold_near(self, scrolling_down: bool = True) -> None:
        """Show what was folded if the view is on it (a jump: end, a click), or, scrolling
        down, the nearest fold once the view is within a screen of it."""
        spacer = self._below.spacer
        if spacer is None or not spacer.is_attached:
            return
        below, height = spacer.virtual_region.y - self.scroll_y, self.scrollable_content_region.height
        if below < height:
            self._below.unfold()
        elif scrolling_down and below <= 2 * height:
            self._below.unfold(one=True)
