"""The MILP's live progress line on stderr (``solve --progress``)."""

from __future__ import annotations

import argparse
import sys
import threading
import time

from .format import num


class LiveProgress:
    """The MILP's progress on stderr: elapsed time, incumbent, bound and gap.

    On a terminal one line redrawn in place: at each report (at most every 0.25 s, and
    always for the final one) and, from a background thread, every 0.5 s in between so
    that the clock keeps running while HiGHS is busy (``run()`` releases the GIL).
    Elsewhere a plain line at most every second. O(1) per report.
    Example: ``problem.solve(progress=LiveProgress(sys.stderr))``.
    """

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = 0.25 if self.tty else 1.0
        self.drawn: float | None = None
        self.open = False
        self.last = None  # the latest report and when it came
        self.at = 0.0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = None
        if self.tty:
            self.ticker = threading.Thread(target=self._tick, name="milp-progress", daemon=True)
            self.ticker.start()

    def _draw(self, p, elapsed: float) -> None:
        gap = "-" if p.gap is None else f"{100 * p.gap:.2f}%"
        text = f"milp {elapsed:8.1f} s   incumbent {num(p.incumbent)}   bound {num(p.bound)}   gap {gap}"
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
            self.open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _tick(self) -> None:
        while not self.stopped.wait(0.5):
            with self.lock:
                if self.last is not None and not self.last.final and not self.stopped.is_set():
                    now = time.monotonic()
                    self._draw(self.last, self.last.elapsed + (now - self.at))
                    self.drawn = now

    def __call__(self, p) -> None:
        now = time.monotonic()
        with self.lock:
            self.last, self.at = p, now
            if p.final or self.drawn is None or now - self.drawn >= self.interval:
                self.drawn = now
                self._draw(p, p.elapsed)
        if p.final:
            self.close()

    def close(self) -> None:
        """Stop the clock and end the live line (a newline on a terminal), so later
        output starts on a line of its own."""
        self.stopped.set()
        if self.ticker is not None and self.ticker.is_alive():
            self.ticker.join()
        with self.lock:
            if self.open:
                self.stream.write("\n")
                self.stream.flush()
                self.open = False


def live_progress(args: argparse.Namespace):
    """The progress display of ``solve --method milp``, or None (--no-progress, CBC, or
    stderr not a terminal and no --progress; --log, which prints HiGHS' own log, turns
    the default off)."""
    wanted = args.progress
    if wanted is None:
        wanted = sys.stderr.isatty() and not args.log
    if not wanted or args.backend != "highs":
        return None
    return LiveProgress(sys.stderr)
