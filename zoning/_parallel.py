"""Run GIL-releasing shapely calls over chunks of their inputs in threads.

shapely 2 releases the GIL in its vectorised functions and STRtree queries, so two
threads on two cores nearly halve the time of the big geometry steps.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

from .errors import ZoningError


def _threads(n_items: int) -> int:
    """Worker threads for a GIL-releasing shapely call over ``n_items`` inputs."""
    if n_items < 20_000:
        return 1
    return max(
        1,
        min(
            8,
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1),
        ),
    )


def query(
    tree: shapely.STRtree, geoms: np.ndarray, predicate: str | None, distance=None
) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query`` split over threads (shapely releases the GIL); (input idx, tree idx)."""
    k = _threads(len(geoms))
    if k == 1:
        res = tree.query(geoms, predicate=predicate, distance=distance)
        return res[0], res[1]
    bounds = np.linspace(0, len(geoms), k + 1).astype(int)

    def run(lo_hi):
        lo, hi = lo_hi
        dist = distance[lo:hi] if np.ndim(distance) else distance
        res = tree.query(geoms[lo:hi], predicate=predicate, distance=dist)
        return res[0] + lo, res[1]

    with ThreadPoolExecutor(k) as pool:
        parts = list(pool.map(run, zip(bounds[:-1], bounds[1:], strict=True)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def elementwise(func, *arrays: np.ndarray) -> np.ndarray:
    """An element-wise shapely function over aligned arrays, split over threads."""
    k = _threads(len(arrays[0]))
    if k == 1:
        return func(*arrays)
    bounds = np.linspace(0, len(arrays[0]), k + 1).astype(int)
    with ThreadPoolExecutor(k) as pool:
        parts = pool.map(
            lambda lo_hi: func(*(a[lo_hi[0] : lo_hi[1]] for a in arrays)),
            zip(bounds[:-1], bounds[1:], strict=True),
        )
        return np.concatenate(list(parts))


# --- a writer in a forked process beside this one (the ledger report) ---------------


class Done:
    """The result of a call already made (same face as :class:`Forked`)."""

    def __init__(self, fn, args):
        self.error = self.value = None
        try:
            self.value = fn(*args)
        except Exception as exc:  # raised by result(), as the forked one is
            self.error = exc

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


class Forked:
    """A forked child running a writer: :meth:`result` waits for it and returns what the
    writer returned (pickled through the pipe), or re-raises its error (a ZoningError as
    itself, anything else by type and message)."""

    def __init__(self, pid: int, fd: int):
        self.pid, self.fd, self.done, self.value = pid, fd, False, None

    def result(self):
        if self.done:
            return self.value
        self.done = True
        import pickle

        with os.fdopen(self.fd, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if payload:
            kind, message, pickled, value = pickle.loads(payload)
            if kind is None and status == 0:
                self.value = value
                return value
            try:
                error = pickle.loads(pickled) if pickled else None
            except Exception:
                error = None
            raise (
                error
                if isinstance(error, BaseException)
                else ZoningError(f"the report's writer failed: {kind}: {message}")
            )
        if status != 0:
            raise ZoningError(f"the report's writer ended with status {status}")


def beside(fn, *args):
    """Run ``fn(*args)`` in a forked process next to this one; ``result()`` waits and
    returns ``fn``'s value (it must pickle) or re-raises the child's error. The child
    writes nothing to the terminal and leaves by ``os._exit`` (no exit handlers, no
    executor threads: nothing printed on exit). Only
    where the system can fork and this process runs a single thread (forking a threaded
    process can deadlock the child); otherwise it runs now, in this process."""
    import sys
    import threading

    if not hasattr(os, "fork") or threading.active_count() > 1:
        return Done(fn, args)
    read_fd, write_fd = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return Forked(pid, read_fd)
    code = 0  # the child
    try:
        os.close(read_fd)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (left by os._exit)
        import pickle

        value = fn(*args)
        if value is not None:
            payload = pickle.dumps((None, None, None, value))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
    except BaseException as exc:
        code = 1
        try:
            import pickle

            try:
                pickled = pickle.dumps(exc)
            except Exception:
                pickled = b""
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(pickle.dumps((type(exc).__name__, str(exc), pickled, None)))
        except BaseException:
            pass
    finally:
        os._exit(code)
