"""Stopping a run: one clock for the whole run, and the user's request to stop.

A :class:`Budget` is made when a run starts (``solve()``, a command of the CLI). Every
phase of the run (the warm start, the DP, building the model, the MILP) asks it how
much time is left, so that ``time_limit`` covers the whole run and not each phase
anew. ``Budget.interrupt()`` records that the user asked to stop (Ctrl-C, SIGTERM);
the MILP then stops through HiGHS' interrupt callback and keeps its best placement.

:func:`catch_signals` is what the command line wraps a run in: the first SIGINT or
SIGTERM raises ``KeyboardInterrupt`` in the main thread (the run catches it, stops
HiGHS and reports what it has), a second one ends the process at once with exit
code 130. Code that calls ``solve()`` from Python gets the same first step from
Python's own SIGINT handler.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterator

from .errors import InputError

__all__ = ["Budget", "catch_signals", "check_time_limit", "can_bound", "run_bounded", "EXIT_INTERRUPTED"]

#: Exit code of a process ended by a second interrupt (128 + SIGINT, as shells do).
EXIT_INTERRUPTED = 130


class Budget:
    """The time limit of one run and whether the user asked it to stop.

    ``time_limit``: seconds for the whole run from now (None: no limit). O(1) per call.

    Example::

        budget = Budget(60)
        dp_limit = budget.remaining()        # what is left for the DP
        if budget.should_stop(): ...         # past the limit, or interrupted
    """

    def __init__(self, time_limit: float | None = None) -> None:
        self.time_limit = time_limit
        self.started = time.monotonic()
        self._interrupted = threading.Event()

    @property
    def deadline(self) -> float | None:
        """The monotonic clock's reading at which the run must end (None: never)."""
        return None if self.time_limit is None else self.started + self.time_limit

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float | None:
        """Seconds left (never below 0), or None without a limit."""
        if self.time_limit is None:
            return None
        return max(0.0, self.time_limit - self.elapsed())

    @property
    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0.0

    @property
    def interrupted(self) -> bool:
        return self._interrupted.is_set()

    def interrupt(self) -> None:
        """Record that the user asked the run to stop (safe from any thread)."""
        self._interrupted.set()

    def first_interrupt(self) -> bool:
        """In an ``except KeyboardInterrupt``: record the user's first interrupt and
        return True, so the run stops with what it has; False for a second one, which
        the caller raises again (the user wants out). Example::

            except KeyboardInterrupt:
                if not budget.first_interrupt():
                    raise
        """
        if self.interrupted:
            return False
        self.interrupt()
        return True

    def should_stop(self) -> bool:
        return self.interrupted or self.expired

    def stop_status(self) -> str:
        """The status of a run this budget stopped: "interrupted" or "time_limit"."""
        return "interrupted" if self.interrupted else "time_limit"

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` or until interrupted; True when interrupted."""
        return self._interrupted.wait(max(0.0, seconds))


def check_time_limit(value, argument: str = "time_limit") -> float | None:
    """``value`` as a time limit in seconds (None: no limit); InputError naming
    ``argument`` for anything but a positive finite number. O(1).

    Example: ``check_time_limit(60) == 60.0``; ``check_time_limit("10")`` raises.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{argument} must be a number of seconds or None, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{argument} must be a positive finite number of seconds, got {value!r}")
    return float(value)


class _SignalState:
    def __init__(self) -> None:
        self.count = 0
        self.raising = True


@contextlib.contextmanager
def catch_signals() -> Iterator[_SignalState]:
    """Within the block, SIGINT and SIGTERM stop the run instead of killing it.

    The first signal prints one line to stderr and raises ``KeyboardInterrupt`` in
    the main thread, which the solve path turns into an ``interrupted`` result with
    the best placement so far; set ``state.raising = False`` (while reporting) to
    only note it. A second signal prints one line and ends the process at once
    (``os._exit(130)``). Outside the main thread it does nothing. O(1).

    Example: ``with catch_signals(): result = solve(instance)``.
    """
    state = _SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum, frame):  # noqa: ARG001 - signal's signature
        state.count += 1
        if state.count > 1:
            os.write(2, b"error: interrupted again; quitting at once\n")
            os._exit(EXIT_INTERRUPTED)
        os.write(2, b"interrupted: stopping with the best placement so far (interrupt again to quit at once)\n")
        if state.raising:
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        sys.stderr.flush()


def can_bound() -> bool:
    """True where :func:`run_bounded` can run work in a child process (fork exists)."""
    return "fork" in multiprocessing.get_all_start_methods()


def run_bounded(work: Callable[[], Any], seconds: float, budget: Budget) -> tuple[bool, Any]:
    """Run ``work()`` in a forked child process for at most ``seconds``.

    For phases that cannot watch the clock themselves (a baseline inside a library
    call): past ``seconds``, or when ``budget`` is interrupted, the child is killed,
    which no thread could be. Returns (True, what ``work`` returned) or (False, None)
    when it ran out of time, was interrupted or died (out of memory, say); an
    exception ``work`` raised is raised here. The child ignores SIGINT (the parent
    decides) and its result comes back pickled. A KeyboardInterrupt here kills the
    child and is raised. O(size of the result) besides the work.

    Example: ``done, start = run_bounded(lambda: slow_heuristic(inst), 10.0, budget)``.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            outcome = (True, work())
        except BaseException as exc:  # noqa: BLE001 - handed to the parent
            outcome = (False, exc)
        send.send(outcome)
        send.close()

    process = context.Process(target=child, name="bounded-work", daemon=True)
    process.start()
    send.close()
    deadline = time.monotonic() + max(0.0, seconds)
    try:
        while True:
            alive = process.is_alive()  # before the poll: a child that ended has sent all it will
            if receive.poll(0.05):
                ok, value = receive.recv()
                process.join()
                if not ok:
                    raise value
                return True, value
            if not alive or time.monotonic() > deadline or budget.interrupted:
                return False, None
    except EOFError:  # the child died while sending
        return False, None
    finally:
        if process.is_alive():
            process.kill()
            process.join()
        receive.close()
