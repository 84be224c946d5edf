"""Two small threads that let a streaming loop overlap its input and output with inference.

The stream runner's frame t+1 is cropped from frame t's keypoints, so cropping and the model stay
one sequential chain; what can run beside it is reading/decoding the next frames and drawing and
writing the previous ones. OpenCV's decoding, colour conversion and video writing and LiteRT's
invoke release the GIL, so two extra threads are enough to keep the model busy.

- `Prefetcher(iterable, depth)`: iterates `iterable` in a background thread, up to `depth` items
  ahead; yields them in order; re-raises the iterable's exception where it happened.
- `OrderedWorker(fn, depth)`: calls fn(item) on every submitted item, in submission order, in
  one background thread; its first exception is re-raised by the next submit() or by close().

Both take depth 0 to mean "no thread": the same calls, made in the caller's thread, so a loop can
switch overlap off and give identical results.
"""
from __future__ import annotations

import queue
import threading

_ITEM, _END, _ERROR = "item", "end", "error"
_POLL_S = 0.1


class Prefetcher:
    def __init__(self, iterable, depth: int = 8):
        self._iterable = iterable
        self.depth = int(depth)
        self._stop = threading.Event()
        self._thread = None
        if self.depth > 0:
            self._queue = queue.Queue(maxsize=self.depth)
            self._thread = threading.Thread(target=self._run, name="prefetch", daemon=True)
            self._thread.start()

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self):
        try:
            for item in self._iterable:
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            self._put((_ERROR, e))

    def __iter__(self):
        if self._thread is None:
            yield from self._iterable
            return
        while True:
            kind, value = self._queue.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value

    def close(self):
        """Stop reading ahead and wait for the thread (items not yet consumed are dropped)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class OrderedWorker:
    def __init__(self, fn, depth: int = 8):
        self._fn = fn
        self.depth = int(depth)
        self._error = None
        self._thread = None
        if self.depth > 0:
            self._queue = queue.Queue(maxsize=self.depth)
            self._thread = threading.Thread(target=self._run, name="ordered-worker", daemon=True)
            self._thread.start()

    def _run(self):
        while True:
            kind, item = self._queue.get()
            if kind == _END:
                return
            if self._error is None:  # after a failure, drain without calling fn
                try:
                    self._fn(item)
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = e

    def _raise(self):
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, item):
        if self._thread is None:
            self._fn(item)
            return
        self._raise()
        self._queue.put((_ITEM, item))

    def close(self):
        """Wait until every submitted item is done; raises the worker's first error."""
        if self._thread is not None:
            self._queue.put((_END, None))
            self._thread.join()
            self._thread = None
        self._raise()
