"""Peak memory of a task, measured in-process.

Sampling this process's RSS at batch boundaries needs no helper process, so it works in a
daemonic prefork child (which may not fork), under gevent and under threads. Under gevent and
threads the figure is the whole process's, which is what the machine has to hold.
"""

import psutil


def current_rss() -> int:
    """Resident set size of this process, in bytes."""
    return int(psutil.Process().memory_info().rss)


class PeakRss:
    def __init__(self, start: int = 0) -> None:
        self.peak = max(start, current_rss())

    def sample(self) -> int:
        self.peak = max(self.peak, current_rss())
        return self.peak
