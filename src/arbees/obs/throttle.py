"""A throttled warning for rejections: a flood of hostile input stays visible but cheap.

Parsers reject bad input one message at a time; logging each one at WARNING would let an
attacker (or a broken venue) turn a garbage flood into a log flood. :class:`ThrottledLog`
logs the first ``first`` occurrences, then every ``every``-th, each tagged with its running
number so the reader knows how many were not shown. Counting belongs to the caller's stats.
"""

from __future__ import annotations

import logging

__all__ = ["ThrottledLog"]


class ThrottledLog:
    """Log the first ``first`` calls at WARNING, then one call in ``every``.

    Args:
        logger: where to log.
        label: what is counted, shown as ``[label #n]`` after each message.
        first: calls logged unconditionally.
        every: afterwards, log only calls whose number is a multiple of this.
    """

    __slots__ = ("count", "every", "first", "label", "logger")

    def __init__(
        self,
        logger: logging.Logger,
        label: str = "rejection",
        *,
        first: int = 20,
        every: int = 1000,
    ) -> None:
        self.logger = logger
        self.label = label
        self.first = first
        self.every = every
        self.count = 0

    def __call__(self, msg: str, *args: object) -> None:
        self.count += 1
        n = self.count
        if n <= self.first or n % self.every == 0:
            self.logger.warning(msg + " [%s #%d]", *args, self.label, n)
