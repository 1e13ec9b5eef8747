"""REST audit of live Polymarket books: a silently stalled socket must not pass for a quiet book.

The market channel has no sequence numbers. A socket can stay open and answer ``PONG`` for
hours while delivering no data (``docs/polymarket.md``), and the silence watchdog cannot
tell that from a token nobody trades: both look like a book that simply does not change.
:class:`BookAuditor` closes that gap from outside. Every ``interval`` seconds it fetches a
batch of subscribed tokens with ``POST /books`` (the CLOB answers in the WS's level order,
parsed into :class:`~arbees.polymarket.models.RestBook`) and compares each top of book —
best bid and ask, price and size — with the local one:

* only books that did NOT change between sending the request and judging the answer are
  compared (an update in flight would make either side look wrong), and a REST answer whose
  ``timestamp`` is older than the local book's venue time is not evidence either;
* a mismatch must persist across ``confirm_after`` (default 2) consecutive audits of that
  token — suspects are re-audited first in the next round — before the book is distrusted:
  :meth:`~arbees.polymarket.feed.PolymarketFeed.invalidate` marks it stale (a stale update
  goes to the consumer at once) and resyncs its socket, whose new connection brings a fresh
  snapshot;
* a match confirms the book (:meth:`~arbees.polymarket.feed.PolymarketFeed.confirm`), so
  ``feed.confirmed_ns(token)`` advances for quiet books too;
* a REST failure (HTTP 429/5xx, transport error, timeout, undecodable body) is counted and
  logged and changes nothing: it never marks a book fresh, stale or confirmed.

Batches rotate through the subscribed tokens (suspects first), at most ``batch_size`` (≤ 50)
tokens per request and ``tokens_per_10s`` overall — far under the venue's ``/books`` limit
of 500 per 10 s per IP, which the monitor's other traffic shares. Give it a
:class:`~arbees.polymarket.rest.PolymarketRest` on the SAME ``httpx`` client (and proxy) as
the egress check, with ``retries=0`` (the next round is the retry), and run it inside the
egress-verified scope; ``allowed`` is an extra check made before every request.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Final

import attrs
import httpx
import trio

from arbees.book import Top, top_of
from arbees.errors import ArbeesError, ConfigError, RateLimitedError
from arbees.money import format_fixed
from arbees.obs.throttle import ThrottledLog
from arbees.polymarket.book import TokenBook
from arbees.polymarket.feed import FeedConfig, PolymarketFeed
from arbees.polymarket.models import RestBook
from arbees.polymarket.rest import PolymarketRest

__all__ = [
    "MAX_BATCH",
    "AuditConfig",
    "AuditStats",
    "AuditedFeed",
    "BookAuditor",
    "open_book_auditor",
]

log = logging.getLogger(__name__)

MAX_BATCH: Final = 50

_Mark = tuple[int, bool]


@attrs.frozen
class AuditConfig:
    """How often and how much to audit.

    Attributes:
        interval: seconds between audit rounds; 0 disables the auditor.
        batch_size: most tokens per ``POST /books`` request (1..50).
        tokens_per_10s: budget of audited tokens per 10 s; each round takes at most
            ``tokens_per_10s * interval / 10`` (at least 1, at most ``batch_size``).
        confirm_after: consecutive mismatching audits of a token before its book is
            distrusted (2 tolerates one update still in flight on the socket).
        request_timeout: bound on one request (a timeout counts as a failure).
    """

    interval: float = 5.0
    batch_size: int = MAX_BATCH
    tokens_per_10s: int = 100
    confirm_after: int = 2
    request_timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
        if not (math.isfinite(self.interval) and self.interval >= 0):
            raise ConfigError("audit interval must be >= 0 seconds (0 disables it)")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ConfigError(f"audit batch_size must be in 1..{MAX_BATCH}")
        if self.tokens_per_10s < 1 or self.confirm_after < 1:
            raise ConfigError("audit tokens_per_10s and confirm_after must be >= 1")
        if not self.request_timeout > 0:
            raise ConfigError("audit request_timeout must be > 0")

    @property
    def enabled(self) -> bool:
        """False when ``interval`` is 0."""
        return self.interval > 0

    @property
    def per_round(self) -> int:
        """Tokens audited per round, within both the batch size and the budget."""
        budget = int(self.tokens_per_10s * self.interval / 10.0)
        return max(1, min(self.batch_size, budget))


@attrs.define
class AuditStats:
    """Auditor counters.

    Attributes:
        rounds: audit rounds begun.
        paused: rounds skipped because ``allowed()`` said no (egress unverified).
        requests: ``POST /books`` requests sent.
        failures: requests that failed (any reason, timeouts included); nothing changed.
        rate_limited: the part of ``failures`` that ended in HTTP 429.
        checked: token comparisons made.
        matches: comparisons that agreed (the book was confirmed).
        mismatches: comparisons that disagreed.
        invalidated: books marked stale after ``confirm_after`` mismatches.
        moved: tokens not compared because the local book changed during the request.
        older: tokens not compared because the REST book was older than the local one.
        missing: tokens absent from the answer (unknown or closed on the venue).
        skipped_stale: tokens not compared because the local book was already stale.
    """

    rounds: int = 0
    paused: int = 0
    requests: int = 0
    failures: int = 0
    rate_limited: int = 0
    checked: int = 0
    matches: int = 0
    mismatches: int = 0
    invalidated: int = 0
    moved: int = 0
    older: int = 0
    missing: int = 0
    skipped_stale: int = 0


def _mark(book: TokenBook | None) -> _Mark | None:
    """What changes whenever the local book does (every applied snapshot or change)."""
    return None if book is None else (book.received_ns, book.stale)


def _show(top: Top) -> str:
    bid, bid_size, ask, ask_size = top
    b = "-" if bid is None else f"{format_fixed(bid)}x{format_fixed(bid_size)}"
    a = "-" if ask is None else f"{format_fixed(ask)}x{format_fixed(ask_size)}"
    return f"{b}/{a}"


class BookAuditor:
    """Audits a :class:`PolymarketFeed`'s books against REST (see the module docstring).

    Args:
        feed: the feed whose books are audited (and invalidated / confirmed).
        rest: CLOB client on the egress-checked ``httpx`` client (``retries=0`` advised).
        config: intervals and budget.
        allowed: checked before every request; False skips the round (egress unverified).
        stats: counters to add to (e.g. shared by the auditors of successive feeds).
    """

    def __init__(
        self,
        feed: PolymarketFeed,
        rest: PolymarketRest,
        config: AuditConfig | None = None,
        *,
        allowed: Callable[[], bool] | None = None,
        stats: AuditStats | None = None,
    ) -> None:
        self.feed = feed
        self.rest = rest
        self.config = config or AuditConfig()
        self.stats = stats if stats is not None else AuditStats()
        self.last_round: dict[str, int] = {}
        self._allowed = allowed
        self._suspects: dict[str, int] = {}
        self._cursor = 0
        self._log = ThrottledLog(log, "failure", first=10, every=100)

    def __repr__(self) -> str:
        return (
            f"<BookAuditor interval={self.config.interval:g}s rounds={self.stats.rounds} "
            f"invalidated={self.stats.invalidated}>"
        )

    @property
    def suspects(self) -> dict[str, int]:
        """Tokens whose last audits disagreed, with the count of consecutive mismatches."""
        return dict(self._suspects)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Audit every ``interval`` until cancelled (returns at once when disabled).

        The first round comes one interval after start, once the sockets had their chance
        to deliver snapshots.
        """
        task_status.started()
        if not self.config.enabled:
            log.info("polymarket audit disabled (interval 0)")
            return
        while True:
            await trio.sleep(self.config.interval)
            await self.audit_once()

    async def audit_once(self) -> None:
        """One round: fetch a batch over REST and judge it against the local books."""
        self.stats.rounds += 1
        if self._allowed is not None and not self._allowed():
            self.stats.paused += 1
            return
        batch = self._next_batch()
        if not batch:
            return
        books = self.feed.protocol.books
        before = {t: _mark(books.get(t)) for t in batch}
        sent_ns = time.time_ns()
        answer = await self._fetch(batch)
        if answer is not None:
            self._judge(batch, before, answer, sent_ns)

    # -- internals ------------------------------------------------------------------------

    def _next_batch(self) -> list[str]:
        tokens = self.feed.tokens
        live = set(tokens)
        for token in [t for t in self._suspects if t not in live]:
            del self._suspects[token]
        if len(self.last_round) > 2 * len(tokens) + 100:
            self.last_round = {t: r for t, r in self.last_round.items() if t in live}
        cap = self.config.per_round
        batch = list(self._suspects)[:cap]
        chosen = set(batch)
        n = len(tokens)
        start = self._cursor % n if n else 0
        step = min(cap - len(batch), n)
        for i in range(step):
            token = tokens[(start + i) % n]
            if token not in chosen:
                batch.append(token)
                chosen.add(token)
        self._cursor = start + step
        for token in batch:
            self.last_round[token] = self.stats.rounds
        return batch

    async def _fetch(self, batch: list[str]) -> Sequence[RestBook] | None:
        self.stats.requests += 1
        why = ""
        with trio.move_on_after(self.config.request_timeout) as scope:
            try:
                return await self.rest.books(batch)
            except RateLimitedError as exc:
                self.stats.rate_limited += 1
                why = str(exc)
            except (ArbeesError, httpx.HTTPError) as exc:
                why = f"{type(exc).__name__}: {exc}"
        if scope.cancelled_caught:
            why = f"no answer within {self.config.request_timeout:g}s"
        self.stats.failures += 1
        self._log("polymarket audit: POST /books failed (%s); no book changed", why[:200])
        return None

    def _judge(
        self,
        batch: list[str],
        before: dict[str, _Mark | None],
        answer: Sequence[RestBook],
        sent_ns: int,
    ) -> None:
        stats = self.stats
        feed = self.feed
        books = feed.protocol.books
        by_token = {b.token_id: b for b in answer}
        distrusted: list[str] = []
        for token in batch:
            rest = by_token.get(token)
            book = books.get(token)
            if rest is None:
                stats.missing += 1
                continue
            if book is None:  # unsubscribed meanwhile
                continue
            if book.stale:
                stats.skipped_stale += 1
                self._suspects.pop(token, None)
                continue
            if _mark(book) != before[token]:
                stats.moved += 1  # in flight; a suspect stays one and is re-audited
                continue
            local_ts, rest_ts = book.venue_ts_ms, rest.timestamp_ms
            if local_ts is not None and rest_ts is not None and rest_ts < local_ts:
                stats.older += 1
                continue
            stats.checked += 1
            local, remote = book.best_levels(), top_of(rest.bids, rest.asks)
            if local == remote:
                stats.matches += 1
                self._suspects.pop(token, None)
                feed.confirm(token, sent_ns)
                continue
            stats.mismatches += 1
            count = self._suspects.get(token, 0) + 1
            detail = f"local {_show(local)} venue {_show(remote)}"
            if count < self.config.confirm_after:
                self._suspects[token] = count
                log.info(
                    "polymarket audit: %s… disagrees with REST (%s); re-checking",
                    token[:12],
                    detail,
                )
                continue
            self._suspects.pop(token, None)
            distrusted.append(token)
            log.warning(
                "polymarket audit: %s… disagreed with REST in %d audits (%s): "
                "marking stale and resyncing its socket",
                token[:12],
                count,
                detail,
            )
        if distrusted:
            reason = f"REST audit: top of book disagreed in {self.config.confirm_after} audits"
            stats.invalidated += len(feed.invalidate(distrusted, reason))


@asynccontextmanager
async def open_book_auditor(
    feed: PolymarketFeed,
    rest: PolymarketRest,
    config: AuditConfig | None = None,
    *,
    allowed: Callable[[], bool] | None = None,
) -> AsyncIterator[BookAuditor]:
    """Run a :class:`BookAuditor` for the duration of the block (cancelled on exit)."""
    auditor = BookAuditor(feed, rest, config, allowed=allowed)
    async with trio.open_nursery() as nursery:
        await nursery.start(auditor.run)
        yield auditor
        nursery.cancel_scope.cancel()


class AuditedFeed(PolymarketFeed):
    """A :class:`PolymarketFeed` whose :meth:`run` also runs a :class:`BookAuditor` on it.

    The monitor runs its whole feed only while egress is verified, so the audit's REST
    traffic stops with the feed. ``allowed`` is checked before every audit request as well;
    ``audit_stats`` lets the auditors of successive feeds (one per verified period) add to
    the same counters.
    """

    def __init__(
        self,
        tokens: Iterable[str],
        config: FeedConfig,
        rest: PolymarketRest,
        *,
        audit: AuditConfig | None = None,
        allowed: Callable[[], bool] | None = None,
        audit_stats: AuditStats | None = None,
    ) -> None:
        super().__init__(tokens, config)
        self.auditor = BookAuditor(self, rest, audit, allowed=allowed, stats=audit_stats)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the feed and, once it is subscribed, its auditor, until cancelled."""
        async with trio.open_nursery() as nursery:
            await nursery.start(super().run)
            await nursery.start(self.auditor.run)
            task_status.started()
