"""The one local process pool of the project: replications, sweeps, validation checks and the
calibration run their seeds (or design points) through it.

What every caller relies on: ``workers <= 1`` runs in this process, in task order; results
are delivered as they come (so a caller can write them at once: a crash loses only the tasks
in flight) and keyed by the task's position, so what is computed never depends on the number
of workers or the order of finishing; Ctrl-C (or any exception) stops the workers at once, the
tasks that had finished are still delivered, and workers end by themselves within seconds
when the main process is gone, however it ended (even SIGKILL).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from typing import Any

# Worker processes start from a clean server process, never by forking a process that may
# run threads (Dask, BLAS), which can deadlock.
POOL_CONTEXT = multiprocessing.get_context("forkserver")


class WorkerDied(RuntimeError):
    """A worker process was killed (by a signal, or the system out of memory)."""


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    workers: int,
    deliver: Callable[[int, Any], None],
) -> None:
    """``fn(*tasks[i])`` for every i; ``deliver(i, result)`` as each one finishes.

    With one worker (or one task) everything runs here, in order. On a pool, an exception
    raised while waiting (Ctrl-C, a failing task, a killed worker: ``WorkerDied``) kills the
    workers, delivers the tasks that had finished, and is raised again; an exception raised
    by ``deliver`` kills the workers and is raised as it is."""
    if workers <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            deliver(i, fn(*task))
        return
    pool = new_pool(min(workers, len(tasks)))
    futures: dict[Future, int] = {}
    delivered: set[int] = set()
    delivering = False
    try:
        futures = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        for fut in as_completed(futures):
            try:
                result = fut.result()
            except BrokenProcessPool:
                raise WorkerDied(
                    "a worker process was killed (by a signal, or the system out of memory)"
                ) from None
            delivering = True
            deliver(futures[fut], result)
            delivering = False
            delivered.add(futures[fut])
    except BaseException:
        kill_pool(pool)
        if not delivering:  # keep what finished before the interruption
            for fut, i in futures.items():
                finished = fut.done() and not fut.cancelled() and fut.exception() is None
                if i not in delivered and finished:
                    deliver(i, fut.result())
        raise
    pool.shutdown()


def map_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> list:
    """``[fn(*t) for t in tasks]``, in task order whatever the workers; ``progress(done)``
    after each task finishes."""
    results: list = [None] * len(tasks)
    done = 0

    def keep(i: int, result: Any) -> None:
        nonlocal done
        results[i] = result
        done += 1
        if progress:
            progress(done)

    run_tasks(fn, tasks, workers, keep)
    return results


def new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=POOL_CONTEXT,
        initializer=_worker_init,
        initargs=(os.getpid(),),
    )


def kill_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool's workers now (shutdown() would wait for their tasks)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with suppress(OSError, ValueError):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.join(10)


def _worker_init(main_pid: int) -> None:
    """In each pool worker: leave Ctrl-C to the main process (which stops the workers), and
    end when the main process is gone, however it ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_watch_main, args=(main_pid, os.getppid()), daemon=True, name="watch-main"
    ).start()


def _watch_main(main_pid: int, parent: int, every: float = 0.2) -> None:
    # The worker's parent is the forkserver, which ends when the main process does: either
    # the main process gone (or a zombie) or a new parent means this worker is orphaned.
    while os.getppid() == parent and alive(main_pid):
        time.sleep(every)
    os._exit(1)


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
