"""Reads the next windows in a thread while the network runs (GDAL and numpy release the GIL)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_END = object()


class ReadAhead:
    """Iterate (index, read(item)) over tile origins or window plans, at most `depth` items ahead."""

    def __init__(self, read: Callable[[Any], Any], items: Sequence, depth: int = 8):
        self._read = read
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self.read_seconds = 0.0  # time spent reading, in the reader thread
        self.wait_seconds = 0.0  # time the consumer waited for a read (I/O not hidden behind compute)
        self._thread = threading.Thread(target=self._run, name="r2cnn-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Reader thread: read in order, hand over through the bounded queue, stop early when asked."""
        try:
            for index, source in enumerate(self._items):
                if self._stop.is_set():
                    return
                started = time.perf_counter()
                item = self._read(source)
                self.read_seconds += time.perf_counter() - started
                self._put((index, item))
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it in its own thread
            self._put(exc)

    def _put(self, item) -> None:
        """Block while the queue is full, but give up as soon as close() is called."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        while True:
            started = time.perf_counter()
            item = self._queue.get()
            self.wait_seconds += time.perf_counter() - started
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the reader (cancel, error or done) and wait for it, so the dataset can be closed safely."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
