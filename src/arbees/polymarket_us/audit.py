"""REST audit of live Polymarket US books: a silently stalled socket must not pass for a
quiet book.

The markets socket carries no sequence numbers, so a socket that stays open while
delivering nothing looks like a market nobody trades. :class:`BookAuditor` checks from
outside: every ``interval`` seconds it fetches a few tracked markets' books over REST
(``GET /v1/markets/{slug}/book``, through the rate-limited
:class:`~arbees.polymarket_us.rest.PolymarketUsRest`) and compares each top of book (best
bid and offer, price and size) with the feed's:

* only books that did not change while the request was in flight are judged, and a REST
  answer older (``transactTime``) than the local book is no evidence;
* a mismatch must persist over ``confirm_after`` consecutive audits of a market (suspects
  are audited first next round) before :meth:`PolymarketUsFeed.invalidate` marks the book
  stale and resubscribes its socket (a fresh snapshot follows);
* a REST failure is counted and logged (throttled) and changes no book.
"""

from __future__ import annotations

import logging
from typing import Final, Protocol

import attrs
import httpx
import trio

from arbees.book import top_of
from arbees.errors import ArbeesError, ConfigError
from arbees.obs.throttle import ThrottledLog
from arbees.polymarket_us.book import MarketBook
from arbees.polymarket_us.models import RestBook
from arbees.polymarket_us.rest import PolymarketUsRest

__all__ = ["AuditConfig", "AuditStats", "Auditable", "BookAuditor"]

log = logging.getLogger(__name__)

_MAX_PER_ROUND: Final = 20


@attrs.frozen
class AuditConfig:
    """How often and how much to audit.

    Attributes:
        interval: seconds between rounds; 0 disables the auditor.
        per_round: markets audited per round (1..20: one REST request each).
        confirm_after: consecutive mismatching audits before a book is distrusted.
        request_timeout: seconds one request may take before the round gives up on it.
    """

    interval: float = 30.0
    per_round: int = 5
    confirm_after: int = 2
    request_timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
        if self.interval < 0 or not 1 <= self.per_round <= _MAX_PER_ROUND:
            raise ConfigError("audit interval must be >= 0 and per_round 1..20")
        if self.confirm_after < 1 or not self.request_timeout > 0:
            raise ConfigError("audit confirm_after must be >= 1 and request_timeout > 0")


@attrs.define
class AuditStats:
    """Counters of one auditor.

    Attributes:
        rounds: rounds run.
        requests: REST requests sent.
        failures: requests that failed (nothing changed).
        matches: books that agreed with REST.
        mismatches: books that disagreed (suspects).
        skipped: books not judged (changed in flight, stale, REST answer older).
        invalidated: books distrusted after ``confirm_after`` mismatches.
    """

    rounds: int = 0
    requests: int = 0
    failures: int = 0
    matches: int = 0
    mismatches: int = 0
    skipped: int = 0
    invalidated: int = 0


class Auditable(Protocol):
    """What the auditor needs of a feed (:class:`PolymarketUsFeed` provides it)."""

    def audited_books(self) -> dict[str, MarketBook]:
        """The tracked books, by slug."""
        ...

    def invalidate(self, slug: str, reason: str) -> None:
        """Distrust a book: stale now, a fresh snapshot to follow."""
        ...


class BookAuditor:
    """Audits a feed's books against REST (see the module docstring)."""

    def __init__(
        self, feed: Auditable, rest: PolymarketUsRest, config: AuditConfig | None = None
    ) -> None:
        self.feed = feed
        self.rest = rest
        self.config = config or AuditConfig()
        self.stats = AuditStats()
        self._suspects: dict[str, int] = {}
        self._cursor = 0
        self._log = ThrottledLog(log, "failure", first=10, every=100)

    @property
    def suspects(self) -> dict[str, int]:
        """Markets whose last audits disagreed, with their consecutive mismatches."""
        return dict(self._suspects)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Audit every ``interval`` until cancelled (returns at once when disabled)."""
        task_status.started()
        if self.config.interval == 0:
            return
        while True:
            await trio.sleep(self.config.interval)
            await self.audit_once()

    async def audit_once(self) -> None:
        """One round: a few markets, suspects first, each fetched and judged."""
        self.stats.rounds += 1
        for slug in self._next_batch():
            await self._audit(slug)

    def _next_batch(self) -> list[str]:
        slugs = sorted(self.feed.audited_books())
        live = set(slugs)
        for slug in [s for s in self._suspects if s not in live]:
            del self._suspects[slug]
        cap = self.config.per_round
        batch = list(self._suspects)[:cap]
        n = len(slugs)
        start = self._cursor % n if n else 0
        for i in range(min(cap - len(batch), n)):
            slug = slugs[(start + i) % n]
            if slug not in batch:
                batch.append(slug)
        self._cursor = start + cap
        return batch

    async def _audit(self, slug: str) -> None:
        book = self.feed.audited_books().get(slug)
        if book is None or book.stale:
            self.stats.skipped += 1
            return
        mark = book.received_ns
        self.stats.requests += 1
        answer: RestBook | None = None
        why = ""
        with trio.move_on_after(self.config.request_timeout) as scope:
            try:
                answer = await self.rest.book(slug)
            except (ArbeesError, httpx.HTTPError) as exc:
                why = f"{type(exc).__name__}: {str(exc)[:120]}"
        if answer is None:
            if scope.cancelled_caught:
                why = f"no answer within {self.config.request_timeout:g}s"
            self.stats.failures += 1
            self._log("polymarket-us audit: book of %s failed (%s); nothing changed", slug, why)
            return
        book = self.feed.audited_books().get(slug)
        stale_answer = (
            book is not None
            and answer.venue_ts_ms is not None
            and book.venue_ts_ms is not None
            and answer.venue_ts_ms < book.venue_ts_ms
        )
        if book is None or book.stale or book.received_ns != mark or stale_answer:
            self.stats.skipped += 1
            return
        if book.best_levels() == top_of(answer.bids, answer.asks):
            self.stats.matches += 1
            self._suspects.pop(slug, None)
            return
        self.stats.mismatches += 1
        count = self._suspects.get(slug, 0) + 1
        if count < self.config.confirm_after:
            self._suspects[slug] = count
            return
        self._suspects.pop(slug, None)
        self.stats.invalidated += 1
        log.warning(
            "polymarket-us audit: %s disagrees with REST %d times: stale, resubscribing",
            slug,
            count,
        )
        self.feed.invalidate(slug, "REST audit mismatch")
