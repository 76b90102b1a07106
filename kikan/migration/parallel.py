"""Ordered parallel preparation for the bulk paths (import and synth).

Why: a legacy import spends most of its time in pure Python per row (decoding, 外字, validation,
snapshot JSON, search keys, My Number encryption), while the database part of a batch is a COPY
and a few set-based statements. Preparing batch k+1 … k+n in worker processes while the single
writer commits batch k overlaps the two and uses every core. Order is kept: results come back in
submission order, so numbering (宛名番号 from the gap-free sequences), the batch ledger and the
resume semantics are exactly those of the one-process run.

The pool starts only when a second item arrives, so a small file (one batch) never pays for
starting processes. `workers=0` runs everything in the calling process (tests, debugging).
Processes are started with "forkserver": the writer holds database connections and threads that
must not be duplicated by fork(). Workers watch the writer: if it dies, SIGKILL included, they
exit at once instead of lingering (each holds a copy of its work queue, so they would otherwise
wait forever, and the forkserver with them).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _watch_writer(writer_pid: int) -> None:
    """Worker initializer: a daemon thread that ends this process when the writer is gone."""
    thread = threading.Thread(target=_exit_with, args=(writer_pid,), daemon=True)
    thread.start()


def _exit_with(writer_pid: int) -> None:
    try:
        fd = os.pidfd_open(writer_pid)  # Linux: readable once the process has exited
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here: poll the pid instead
        while True:
            time.sleep(1)
            try:
                os.kill(writer_pid, 0)
            except ProcessLookupError:
                os._exit(1)
    select.select([fd], [], [])
    os._exit(1)  # the writer died mid-run; its transaction rolls back, nothing to save here


def default_workers() -> int:
    """One worker per core. The writer mostly waits on the database (COPY, INSERT … SELECT),
    so it does not need a core of its own: measured on 2 cores, synthesising 60,000 persons
    into PostgreSQL ran at 3,884/s with one worker and 4,336/s with two."""
    return max(1, os.cpu_count() or 1)


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], *, workers: int, ahead: int | None = None
) -> Iterator[tuple[T, R]]:
    """Yield (item, fn(item)) in the order of `items`, computing up to `ahead` results early.

    `fn` and the items must pickle (a module-level function or a functools.partial of one).
    An exception raised by `fn` is raised here, at its item's turn; the remaining work is
    cancelled. Memory is bounded by `ahead` prepared results.
    """
    it = iter(items)
    if workers <= 0:
        for item in it:
            yield item, fn(item)
        return
    first = next(it, None)
    if first is None:
        return
    second = next(it, None)
    if second is None:
        yield first, fn(first)
        return
    depth = ahead if ahead is not None else workers * 2
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_watch_writer,
        initargs=(os.getpid(),),
    ) as pool:
        pending: deque[tuple[T, Future[R]]] = deque()
        try:
            for item in (first, second):
                pending.append((item, pool.submit(fn, item)))
            for item in it:
                while len(pending) >= depth:
                    done_item, future = pending.popleft()
                    yield done_item, future.result()
                pending.append((item, pool.submit(fn, item)))
            while pending:
                done_item, future = pending.popleft()
                yield done_item, future.result()
        finally:
            for _item, future in pending:
                future.cancel()
