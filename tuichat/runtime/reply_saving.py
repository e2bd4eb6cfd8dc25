"""A streaming reply kept saved: timed saves, retries, reports of a save problem, recovery files.

The reply is saved by a task of its own while it streams: within SAVE_INTERVAL of any
change, whether or not more steps come (a pipe that streams ten words and then thinks for a
minute has them saved at once), and once at the end, so a kill -9 loses at most
SAVE_INTERVAL of it. A save writes the whole text, so a huge reply (a pipe flooding
megabytes) is saved less often: never sooner after the last save than SAVE_COST_SHARE times
what that save cost, so saving takes a bounded share of the time and the bytes written stay
linear in the reply's size, not quadratic.

A save that fails (another process holds the write lock, the disk is full) never stops
the reply: it stays in memory, the front end is told (`on_problem`, with the cause and what
to do), and the save is retried with backoff until it works; `flush` waits for that once
the reply has ended, and `write_recovery` puts the reply in a file when tuichat has to end
first. `unsaved_replies` lists the replies an ending front end must flush or write out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tuichat.runtime.reply.model import Reply
from tuichat.store import MessageRow, Store, StoreError

SAVE_INTERVAL = 0.5  # seconds at most between a change to a streaming reply and its save
SAVE_WAIT = 0.5  # seconds a save waits for another process's write lock before it retries later
RETRY_MAX = 4.0  # seconds at most between two tries of a failing save (the backoff's cap)
REMIND_EVERY = 30.0  # seconds between reports of a save problem that goes on
SAVE_COST_SHARE = 10  # a save costing t seconds is followed by none for 10 t (saves take <= ~10%)

# Replies the database has not taken yet, for a front end that is about to end
# (see `unsaved_replies`).
_unsaved: set[ReplySaver] = set()


def unsaved_replies() -> list[ReplySaver]:
    """Replies not fully saved: what an ending front end must flush or write out."""
    return list(_unsaved)


def save_problem_text(error: StoreError) -> str:
    """What to tell the user when a reply cannot be saved yet: the cause and what to do."""
    advice = error.advice or "check the database"
    return (
        f"The reply is not saved yet: {error.cause}. {advice[0].upper()}{advice[1:]}; the reply is kept "
        f"and saved as soon as the database takes it (tuichat keeps trying)."
    )


class ReplySaver:
    """Keeps one reply's stored row up to date with the reply as `current` gives it.

    Nothing is saved until `attach` names the stored row; `touch` marks each change, and
    `keep_saved` (a task while the reply streams) and `save_now` write it."""

    def __init__(
        self,
        store: Store,
        current: Callable[[], Reply],
        *,
        model_id: str,
        user_text: str,
        on_problem: Callable[[StoreError | None], None] | None = None,
    ) -> None:
        """`current`: the reply as it is now. `model_id` and `user_text`: what it answered,
        for a recovery file. `on_problem`: called with the error when saving starts failing
        (or fails for another reason), and with None when a save works again."""
        self.store = store
        self.current = current
        self.model_id = model_id
        self.user_text = user_text
        self.on_problem = on_problem
        self.message: MessageRow | None = None  # the stored row the reply is saved to
        self.error: StoreError | None = None  # why the last save failed, while saves fail
        self._version = 0  # counts changes to the reply
        self._saved_version = 0  # the change the database holds
        self._saved_activity = 0  # activity entries the database holds
        self._last_try = 0.0
        self._last_cost = 0.0  # seconds the last save took
        self._reported_at = 0.0
        self._gone = False  # the stored reply was deleted (its chat was): nothing more to save
        self._save_lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._give_up = asyncio.Event()

    def attach(self, message: MessageRow) -> None:
        """Save the reply to `message` (its row, stored as 'streaming') from now on."""
        self.message = message

    @property
    def active(self) -> bool:
        """Whether there is a stored row to keep up to date."""
        return self.message is not None and not self._gone

    @property
    def unsaved(self) -> bool:
        """Whether the reply has changes the database does not hold (its saves failed)."""
        return self.active and self._version != self._saved_version

    def touch(self) -> None:
        """The reply changed: it is saved within SAVE_INTERVAL (by `keep_saved`)."""
        self._version += 1
        if self.active:
            self._changed.set()
            _unsaved.add(self)

    def give_up(self) -> None:
        """Stop `flush` waiting (tuichat is ending)."""
        self._give_up.set()

    async def keep_saved(self) -> None:
        """Saves while the reply streams: SAVE_INTERVAL after a change (sooner after a quiet
        spell), and after a failure again with backoff, up to RETRY_MAX apart."""
        failures = 0
        while True:
            await self._changed.wait()
            delay = SAVE_INTERVAL if not failures else min(SAVE_INTERVAL * 2**failures, RETRY_MAX)
            delay = max(delay, self._last_cost * SAVE_COST_SHARE)
            await asyncio.sleep(max(0.0, self._last_try + delay - time.monotonic()))
            self._changed.clear()
            if await self.save_now():
                failures = 0
            else:
                failures += 1
                self._changed.set()

    async def flush(self, patience: float | None = None) -> bool:
        """Save what is not saved yet, retrying with backoff until it works (True), `patience`
        seconds have passed, or `give_up` was called (False)."""
        deadline = None if patience is None else time.monotonic() + patience
        failures = 0
        while not await self.save_now():
            failures += 1
            delay = min(SAVE_INTERVAL * 2**failures, RETRY_MAX)
            if deadline is not None:
                delay = min(delay, deadline - time.monotonic())
                if delay <= 0:
                    return False
            try:
                await asyncio.wait_for(self._give_up.wait(), delay)
                return False
            except TimeoutError:
                pass
        return True

    async def save_now(self) -> bool:
        """Store the reply as it is now, with the activity entries not stored yet; False if the
        database refused (the error is kept in `error` and reported)."""
        message = self.message
        if not self.active or message is None:
            _unsaved.discard(self)
            return True
        async with self._save_lock:
            version = self._version
            if version == self._saved_version:
                return True
            self._last_try = started = time.monotonic()
            try:
                return await self._save(message, version)
            finally:
                self._last_cost = time.monotonic() - started

    async def _save(self, message: MessageRow, version: int) -> bool:
        """`save_now` with the lock held."""
        reply = self.current()
        first = self._saved_activity
        activity = reply.activity[first:]
        try:
            kept = await self.store.chats.save_reply(
                message.id,
                **reply.row_fields(),
                new_events=[(entry.at, entry.to_record()) for entry in activity],
                first_seq=first,
                wait=SAVE_WAIT,
            )
        except StoreError as error:
            self._report(error)
            return False
        self._gone = not kept
        self._saved_version, self._saved_activity = version, first + len(activity)
        if not self.unsaved:
            _unsaved.discard(self)
        self._report(None)
        return True

    def _report(self, error: StoreError | None) -> None:
        """Tell `on_problem` when saves start failing, fail for another reason, go on
        failing (every REMIND_EVERY seconds) and work again."""
        before = self.error
        self.error = error
        if self.on_problem is None:
            return
        if error is None:
            if before is not None:
                self.on_problem(None)
            return
        now = time.monotonic()
        same = before is not None and (before.kind, before.cause) == (error.kind, error.cause)
        if not same or now - self._reported_at >= REMIND_EVERY:
            self._reported_at = now
            self.on_problem(error)

    def write_recovery(self) -> Path:
        """Write the reply, as it is now, to a recovery file (for when tuichat must end before
        the database takes it); its path. Raises OSError when no folder takes it."""
        from tuichat.store.recovery import write_recovery

        reply = self.current()
        message = self.message
        record = {
            "chat_id": message.chat_id if message else None,
            "message_id": message.id if message else None,
            "model_id": self.model_id,
            "user_message": self.user_text,
            "problem": str(self.error) if self.error is not None else None,
            "reply": {**reply.row_fields(), "activity": [entry.to_json() for entry in reply.activity]},
        }
        path = write_recovery(self.store.path, record)
        _unsaved.discard(self)
        return path
