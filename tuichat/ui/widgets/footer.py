"""Textual's Footer, without its leak: every old key it drew stayed alive.

Each FooterKey binds the footer's `compact` (`data_bind`), which adds it to the footer's
watcher list; the footer recomposes whenever the bindings change (a focus change, a reply
starting or ending), and Textual drops a watcher whose widget is gone only when `compact`
itself changes, which it never does here. So every key ever drawn, with its styles and
render caches, was kept: ~100 widgets a message, most of what the app grew by in a 30-minute
soak. After each recompose the watchers of keys no longer mounted are dropped.

Bindings change in bursts (start-up: the screen, its focus and the prompt each publish a
change), and Textual's footer recomposes once per change: five recomposes of ~14 ms each
before the first frame. One recompose after the burst draws the same keys, and none when
the keys it would draw are those it shows (opening a chat changed the focus and the
selected reply, not the keys: two recomposes, ~40 ms of a long chat's opening).
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter

KeysShown = tuple[tuple[str, str, str, bool, str], ...]


class Footer(TextualFooter):
    _recompose_queued = False
    _shown: KeysShown | None = None

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not (self.is_attached and screen is self.screen):
            return
        if not self._recompose_queued:
            self._recompose_queued = True
            self.call_after_refresh(self._recompose_queued_change)

    async def _recompose_queued_change(self) -> None:
        self._recompose_queued = False
        if self.is_attached and keys_shown(self.screen) != self._shown:
            await self.recompose()

    async def recompose(self) -> None:
        self._shown = keys_shown(self.screen)
        await super().recompose()
        drop_stale_watchers(self, "compact")


def keys_shown(screen: Screen) -> KeysShown:
    """What the footer draws of `screen`'s bindings: each shown key, its action, text,
    whether it is enabled, and its tooltip."""
    return tuple(
        (binding.key, binding.action, binding.description, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


def drop_stale_watchers(owner: object, attribute: str) -> None:
    """Forget the watchers of `owner.attribute` whose widgets have left the DOM."""
    watchers: dict[str, list[tuple[Any, Any]]] = getattr(owner, "__watchers", {})
    if attribute in watchers:
        watchers[attribute][:] = [
            (node, callback) for node, callback in watchers[attribute] if node.is_attached and not node._closing
        ]
