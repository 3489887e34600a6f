"""What the process does when the world around it misbehaves: SIGTERM is an interrupt like Ctrl-C, a closed
or full stderr never stops the work, and once an output is published a late signal cannot fail the run."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# SIGHUP: the terminal went away (absent on Windows).
STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C (temporaries removed), exits 128 + the signal number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(interrupt: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP: what shells and schedulers expect."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)


def _raise_terminated(signum: int, _frame) -> None:
    raise Terminated(signum)


def install_signal_handlers() -> None:
    """SIGTERM / SIGHUP raise Terminated in the main thread (only it may install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in STOP_SIGNALS[1:]:
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _raise_terminated)


@contextmanager
def publishing() -> Iterator[None]:
    """Signals wait while outputs are published; once the block succeeds the run has succeeded, so they
    are dropped (a late interrupt cannot report failure for a complete output). On failure they act.

    Handlers are swapped rather than signals masked: any thread may receive a signal, but Python runs
    its handler in the main thread, so a recording handler is the one that reliably keeps it waiting.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda s, _f: received.append(s)) for signum in STOP_SIGNALS}
    try:
        yield
    except BaseException:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            raise (KeyboardInterrupt() if received[0] == signal.SIGINT else Terminated(received[0])) from None
        raise
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


class TolerantStream:
    """A text stream that turns write errors (closed pipe, full disk) into silence: logging never kills work."""

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self._stream.write(text)
                if "\n" in text:
                    self._stream.flush()
            except (OSError, ValueError):
                self._give_up()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._give_up()

    def _give_up(self) -> None:
        """Send the descriptor to /dev/null, so that neither C libraries nor interpreter exit trip on it."""
        self.broken = True
        try:
            fd = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
        except (OSError, ValueError, AttributeError):
            pass

    def isatty(self) -> bool:
        try:
            return not self.broken and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def guard_stderr() -> None:
    """sys.stderr as a TolerantStream (once)."""
    if not isinstance(sys.stderr, TolerantStream) and sys.stderr is not None:
        sys.stderr = TolerantStream(sys.stderr)
