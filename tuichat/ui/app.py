"""The tuichat Textual app: opens the store and shows the chat screen."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.actions import SkipAction
from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal

from tuichat.runtime.untrusted import neutralise
from tuichat.store import Store, StoreError
from tuichat.ui.key_gate import HeldEvent, KeyGate
from tuichat.ui.keymap import Keymap, load_keymap

if TYPE_CHECKING:
    from textual.driver import Driver
    from textual.notifications import SeverityLevel

    from tuichat.runtime.services import Services
    from tuichat.runtime.watch import Watcher, WatchReport

KEYMAP_SETTING = "keymap"
THEME_SETTING = "theme"


class TuichatApp(App[int]):
    """The app hands its services to screens and widgets: declare `app = getters.app(TuichatApp)`
    and use `self.app.store` (open before the first screen) and `await self.app.runtime()`
    (the pipe host and function library, started once, after the first frame)."""

    TITLE = "tuichat"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        # F7 reaches every terminal and no chat screen binding uses it. Priority, as the prompt
        # (a TextArea) binds F7 to select-all; where the pipes screen cannot open, the key
        # goes on to the focused widget (see action_open_pipes).
        Binding("f7", "open_pipes", "Pipes", id="pipes.open", priority=True),
        # Not priority, so a keymap can give F1 to a screen's action; `?` is typed in a text
        # field, and only reaches the app from elsewhere. Not in other screens' footers, which
        # are full; the chat screen lists F1 too, first in its footer.
        Binding("f1", "help", "Help", id="app.help", show=False),
        Binding("question_mark", "help", "Help", id="app.help_question", show=False),
    ]

    def __init__(
        self, db_path: Path, watch: list[Path] | None = None, keymap: Keymap | None = None, *, fresh: bool = False
    ) -> None:
        """`fresh`: start on a new chat rather than the one open when the app last ran."""
        super().__init__()
        self.db_path = db_path
        self.fresh = fresh
        self.last_input = 0.0  # time.monotonic() of the last key or paste (see ClosedChats)
        # TUICHAT_KEYMAP and the config file, checked (`run_app` has said its problems on stderr).
        self.keymap = keymap if keymap is not None else load_keymap()
        self.watch_paths = list(watch or [])  # files to link to their pipes once the runtime starts
        self.watched_ids: list[str] = []  # the functions those files are linked to, in order
        self._store: Store | None = None
        self.services: Services | None = None  # set once the runtime has started
        self.watcher: Watcher | None = None
        self._runtime_lock = asyncio.Lock()
        self._signals: list[int] = []  # the signals this app handles (see _handle_signals)
        # Published after anything changes stored functions (a save, import, valves, a watched
        # file), so the model picker and open screens refresh at once.
        self.functions_changed: Signal[str] = Signal(self, "functions-changed")
        # Every live-reload result, for the pipes screen and editor to show.
        self.watch_reported: Signal[WatchReport] = Signal(self, "watch-reported")
        self.keys = KeyGate(self, self._hand_on)
        self._saved_theme: str | None = None  # the theme as stored (see _restore_theme)

    async def on_event(self, event: events.Event) -> None:
        """Keys and pastes go on one at a time: each once the one before it has been handled
        and any dialog it opened is ready for it (see key_gate)."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self.last_input = time.monotonic()
            if not self.keys.hold(event):
                await self._hand_on(event)
                self.keys.sent(event)
            return
        await super().on_event(event)

    async def _hand_on(self, event: HeldEvent) -> None:
        await super().on_event(event)

    def push_screen(self, *args: Any, **kwargs: Any) -> Any:
        """Textual's, and a screen a key's worker was expected to show has come (key_gate)."""
        pushed = super().push_screen(*args, **kwargs)
        self.keys.screen_pushed()
        return pushed

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:  # (not a driver chosen through TEXTUAL_DRIVER, nor Windows')
            from tuichat.ui.terminal import TerminalDriver

            return TerminalDriver
        return driver

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast comes here (a screen's and a widget's `notify` too), and many quote a
        pipe (its notification, its error, a load error): their control characters are shown."""
        super().notify(neutralise(message), title=neutralise(title), severity=severity, timeout=timeout, markup=markup)

    @property
    def store(self) -> Store:
        """The open store (opened before any screen is shown)."""
        if self._store is None:
            raise RuntimeError("the store is not open yet")
        return self._store

    async def on_mount(self) -> None:
        from tuichat.ui.chat.screen import ChatScreen

        self._handle_signals()
        try:
            self._store = await Store.open(self.db_path)
        except StoreError as error:
            self.exit(2, message=f"tuichat: {error}")
            return
        if self.store.exposure:
            self.notify(self.store.exposure, title="Your database is readable by others", severity="warning", timeout=20)
        # Every binding has an id, so any key can be remapped: a stored keymap, then the config
        # file, then TUICHAT_KEYMAP (`ui.keymap`).
        keymap = dict(await self.store.settings.get(KEYMAP_SETTING, {}) or {})
        keymap.update(self.keymap.bindings)
        if keymap:
            self.set_keymap(keymap)
        await self._restore_theme()
        if self.keymap.problems:
            problems = "\n".join(self.keymap.problems)
            self.notify(f"{problems}\nThose entries were left out.", title="Keymap", severity="warning", timeout=30)
        await self.push_screen(ChatScreen())

    # -- the theme, remembered -------------------------------------------------------------
    async def _restore_theme(self) -> None:
        theme = await self.store.settings.get(THEME_SETTING)
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self._saved_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: object) -> None:
        self.run_worker(self._save_theme(), group="theme", exclusive=True, exit_on_error=False)

    async def _save_theme(self) -> None:
        if self._store is not None and self.theme != self._saved_theme:
            await self._store.settings.set(THEME_SETTING, self.theme)
            self._saved_theme = self.theme

    def action_help(self) -> None:
        """This app's keys, by screen, as bound now (F1; `?` outside a text field)."""
        from tuichat.ui.keys_reference import section_for
        from tuichat.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        under = next((s for s in reversed(self.screen_stack) if section_for(type(s).__name__)), None)
        first = section_for(type(under).__name__) if under is not None else None
        self.push_screen(HelpScreen(getattr(self, "_keymap", {}), first))

    async def runtime(self) -> Services:
        """The pipe runtime, started once: imported only when first needed, after the first
        frame (pydantic and the loader cost ~90 ms), then the examples and watched files."""
        async with self._runtime_lock:
            if self.services is not None:
                return self.services
            from tuichat.runtime.services import Services
            from tuichat.runtime.watch import Watcher, link_file

            services = await Services.start(self.store)
            library = services.library
            for path in self.watch_paths:
                try:
                    row, report = await link_file(library, path)
                except Exception as error:  # a bad path must not stop the app; say what it was
                    self.notify(f"--watch {path}: {error}", title="Cannot watch", severity="error", timeout=15)
                    continue
                self.watched_ids.append(row.id)
                self.notify(f"Watching {row.linked_path} for '{row.id}'", title="Live reload")
                self.report_watch(report)
            self.watcher = Watcher(library, self.report_watch)
            await self.watcher.refresh()
            self.services = services
            return services

    async def action_quit(self) -> None:
        """ctrl+q, and Quit in the command palette: a pipe editor with unsaved changes asks first
        (save and quit / quit without saving / stay). Prompt drafts are stored as screens close."""
        editors = sys.modules.get("tuichat.ui.workshop.unsaved_changes")  # imported with the first editor
        if editors is not None and not editors.ask_before_quit(self):
            return
        self.exit()

    def report_watch(self, report: WatchReport) -> None:
        if report.message.startswith("unchanged"):
            return
        self.watch_reported.publish(report)
        if report.ok:
            self.notify(report.message, title="Live reload", timeout=4)
        else:
            self.notify(report.message, title="Live reload failed", severity="error", timeout=12)
        self.functions_changed.publish(report.function_id)

    def _pipes_open(self) -> bool:
        """Whether the pipes screen is on the stack. Its module is imported when it first opens
        (it brings the runtime): until then none can be open, and the footer, which asks at
        the first frame, must not pay for that import."""
        module = sys.modules.get("tuichat.ui.workshop.pipes_screen")
        return module is not None and any(isinstance(s, module.PipesScreen) for s in self.screen_stack)

    def _can_open_pipes(self) -> bool:
        """Not over a dialog, and only once (the editor it opens keeps F7 for select-all)."""
        from textual.screen import ModalScreen

        if self._store is None or not self.screen_stack or isinstance(self.screen, ModalScreen):
            return False
        return not self._pipes_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_pipes":
            # Hidden from the footer once the pipes screen is open (under a dialog the key is
            # shown but passed on to the dialog: see action_open_pipes).
            return not self._pipes_open()
        return True

    async def action_open_pipes(self) -> None:
        """Show the pipes screen (F7) over the chat."""
        if not self._can_open_pipes():
            raise SkipAction()  # not here: let the focused widget have the key
        from tuichat.ui.workshop.pipes_screen import PipesScreen

        await self.push_screen(PipesScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every screen action in the command palette (ctrl+p), with its key."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # Textual's generic panel: Help (F1) is this app's own
                yield command
        pipes_open = self._pipes_open()
        for binding in self.BINDINGS:  # the app's own (quit is already among Textual's)
            if not isinstance(binding, Binding) or not binding.description or binding.action == "quit":
                continue
            if binding.action == "open_pipes" and pipes_open:
                continue

            def run_app_action(action: str = binding.action) -> None:
                self.run_worker(self.run_action(action))

            yield SystemCommand(binding.description, f"{self.key_of(binding)}  ({binding.id})", run_app_action)
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description and _applies(screen, binding.action):
                action = binding.action

                def run(action: str = action) -> None:
                    self.run_worker(screen.run_action(action))

                yield SystemCommand(binding.description, f"{self.key_of(binding)}  ({binding.id})", run)

    def key_of(self, binding: Binding) -> str:
        """The key that runs `binding` now: its own, or the keymap's."""
        keys = self._keymap.get(binding.id, binding.key) if binding.id else binding.key
        return ", ".join(key.strip() for key in keys.split(","))

    # -- ending: SIGTERM and SIGHUP, and replies the database has not taken ------------------
    def _handle_signals(self) -> None:
        """SIGTERM and SIGHUP (an SSH drop) end the app as ctrl+q does, except that a streaming
        reply is saved as interrupted first; the exit status is 128 + the signal's number."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                loop.add_signal_handler(signum, self._signalled, signum)
                self._signals.append(signum)

    def _signalled(self, signum: int) -> None:
        self.run_worker(self._end_for_signal(signum), group="signal", exclusive=True, exit_on_error=False)

    async def _end_for_signal(self, signum: int) -> None:
        from tuichat.ui.chat.replies import Replies

        for screen in self.screen_stack:
            if isinstance(screen, Replies):
                await screen.interrupt_reply(signal.Signals(signum).name)
        editors = sys.modules.get("tuichat.ui.workshop.unsaved_changes")  # imported with the first editor
        if editors is not None:  # no one is there to ask: unsaved edits go to the pipe's history
            await editors.keep_unsaved_edits(self)
        self.exit(128 + signum)

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        await _flush_replies(patience=1.0)
        if self.watcher is not None:
            await self.watcher.close()
        if self.services is not None:
            await self.services.close()
        if self._store is not None:
            await self._save_theme()  # a change made just before quitting, its worker cut short
            await self._store.close()


def _applies(screen: Screen[object], action: str) -> bool:
    """Whether the palette lists `action`: only what the screen's check_action allows now, as
    its footer shows (no "Stop" with nothing streaming)."""
    namespace, name, parameters = parse_action(action)
    return namespace != "" or bool(screen.check_action(name, parameters))


async def _flush_replies(patience: float) -> None:
    """A last try, of at most `patience` seconds, to save replies the database refused so far."""
    saving = sys.modules.get("tuichat.runtime.reply_saving")  # not imported: no reply was sent
    if saving is None:
        return
    for reply in saving.unsaved_replies():
        await reply.flush(patience)


def _write_unsaved_replies() -> int:
    """After the app: replies the database never took go to recovery files, and we say where;
    how many there were."""
    saving = sys.modules.get("tuichat.runtime.reply_saving")
    if saving is None:
        return 0
    unsaved = saving.unsaved_replies()
    for reply in unsaved:
        try:
            path = reply.write_recovery()
            line = f"tuichat: a reply could not be saved ({reply.error}); it was written to {path}"
        except OSError as error:
            line = f"tuichat: a reply could not be saved ({reply.error}) nor written to a file ({error}):\n{reply.current().content}"
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            print(line, file=sys.stderr, flush=True)
    return len(unsaved)


def run_app(db_path: Path, watch: list[Path] | None = None, *, fresh: bool = False) -> int:
    """The app until it ends; its exit status: 1 when it crashed, 128 + N for signal N, 2 when
    a reply could not be saved (it went to a recovery file), else 0."""
    keymap = load_keymap()
    for problem in keymap.problems:  # before the screen takes the terminal
        print(f"tuichat: keymap: {problem}", file=sys.stderr, flush=True)
    from tuichat.ui.widgets.images import probe_terminal

    probe_terminal()  # which graphics the terminal draws images with, asked before Textual starts
    app = TuichatApp(db_path, watch=watch, keymap=keymap, fresh=fresh)
    code = app.run()
    code = code if isinstance(code, int) else (app.return_code or 0)
    if _write_unsaved_replies() and code == 0:
        return 2
    return code
