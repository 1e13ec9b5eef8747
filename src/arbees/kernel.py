"""The arbitrage kernel: many markets' top-of-book checks at once, plus the seed's API.

Why: the shard re-checks every watched market on each update; doing that market by market
in Python costs microseconds each. :func:`batch_check` runs the exact check of
:func:`arbees.arb.top.reference_check` over structure-of-arrays inputs in native C
(vectorized across markets, AVX2 with FMA or SSE2 picked at run time; every ISA exact),
falling back to pure Python when the extension was not built. :data:`BACKEND` says which is active:
``"native-avx2"``, ``"native-sse2"``, ``"native-c"`` or ``"python"``.

``ARBEES_KERNEL`` (read at import) selects it: unset/``auto`` = best available,
``python`` = force the fallback, ``native`` = best native (error if not built),
``native-avx2`` / ``native-sse2`` / ``native-c`` = that ISA (error if unavailable).

:func:`event_check` is the general form the shard runs on every batch of quotes: events with
2 or 3 outcomes and several venues per outcome, each contract with its own fee parameters,
-> per event the best partition of the outcomes into contracts and its top-of-book edge.
:func:`prefilter_edge` turns the shard's ``min_edge`` into the threshold at which that
top-of-book check never misses an opportunity of the exact depth walk (proof there).

The seed-compatible functions (:func:`simd_check_arbs`, :func:`simd_decode_mask`,
:func:`simd_calculate_profit`, :func:`simd_batch_scan`) take prices in **whole cents**
(ints, 1..99; 0 or anything else = missing, never flagged) like the seed, and apply the
Kalshi fee of a 1-contract order rounded up to the cent to Kalshi legs, as the seed did.
Unlike the seed they also accept a Polymarket fee model (``poly_fee=``; the seed assumed
Polymarket was fee-free, which is wrong on fee-enabled markets) and a Kalshi one.
"""

from __future__ import annotations

import importlib
import os
from array import array
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, TypeAlias

import attrs

from arbees.arb.model import decode_mask
from arbees.arb.top import NO_EDGE, reference_check, unit_cost
from arbees.errors import KernelError
from arbees.fees import KalshiFeeModel, PolymarketFeeModel
from arbees.money import CENT, ONE

__all__ = [
    "BACKEND",
    "LEG_MARGIN",
    "MAX_OUTCOMES",
    "MAX_VENUES",
    "NO_EDGE",
    "NO_PARTITION",
    "PARTITION_ALL_NO",
    "BatchResult",
    "EventBatch",
    "EventResult",
    "Int64s",
    "available_backends",
    "batch_check",
    "contract_index",
    "event_check",
    "floor_sum",
    "prefilter_edge",
    "simd_batch_scan",
    "simd_calculate_profit",
    "simd_check_arbs",
    "simd_check_arbs_py",
    "simd_decode_mask",
]

_ISAS: Final = {"native-c": 0, "native-sse2": 1, "native-avx2": 2}
_ISA_NAMES: Final = {v: k for k, v in _ISAS.items()}
_DEFAULT_K: Final = KalshiFeeModel()

Int64s: TypeAlias = "array[int] | memoryview | Sequence[int]"
"""An int64 column: ``array('q')``, a memoryview of format ``q``, or a sequence of ints."""

_ffi: Any = None
_lib: Any = None
_alloc: Any = None
try:
    _native: Any = importlib.import_module("arbees._native_kernel")
    _ffi, _lib = _native.ffi, _native.lib
    _alloc = _ffi.new_allocator(should_clear_after_alloc=False)
except ImportError:  # pragma: no cover - depends on the build
    pass


def _native_backends() -> list[str]:
    if _lib is None:
        return []
    best = int(_lib.arbees_best_isa())
    return [_ISA_NAMES[i] for i in range(best, -1, -1)]


def available_backends() -> tuple[str, ...]:
    """Backends usable on this machine and build, best first (always ends with python)."""
    return (*_native_backends(), "python")


def _select_backend() -> str:
    wanted = os.environ.get("ARBEES_KERNEL", "auto").strip().lower() or "auto"
    native = _native_backends()
    if wanted == "auto":
        return native[0] if native else "python"
    if wanted == "python":
        return "python"
    if wanted == "native":
        if not native:
            raise KernelError("ARBEES_KERNEL=native but the native kernel was not built")
        return native[0]
    if wanted in _ISAS:
        if wanted not in native:
            raise KernelError(f"ARBEES_KERNEL={wanted} is not available here: {native}")
        return wanted
    raise KernelError(f"unknown ARBEES_KERNEL value {wanted!r}")


_NATIVE: Final = tuple(_native_backends())  # the CPU does not change while we run
BACKEND: Final = _select_backend()
"""The active backend (see the module docstring)."""


@attrs.frozen(slots=True)
class BatchResult:
    """Output of :func:`batch_check`.

    Attributes:
        masks: a memoryview of format ``B``: one combination mask per market (bits 1/2/4/8).
        best_edge: a memoryview of format ``q``: per market the best 1-contract edge in
            micro-units over combinations with both legs present, or :data:`NO_EDGE`.
    """

    masks: memoryview
    best_edge: memoryview

    def flagged(self) -> list[tuple[int, int]]:
        """``(index, mask)`` of every market with a non-zero mask."""
        return [(i, m) for i, m in enumerate(self.masks) if m]


def _column(value: Int64s | int, n: int, name: str) -> array[int] | memoryview:
    if isinstance(value, array):
        if value.typecode != "q":
            raise KernelError(f"{name}: expected array('q'), got array({value.typecode!r})")
        col: array[int] | memoryview = value
    elif isinstance(value, memoryview):
        if value.format != "q" or value.ndim != 1:
            raise KernelError(f"{name}: expected a 1-d memoryview of format 'q'")
        col = value
    elif isinstance(value, bool):
        raise KernelError(f"{name}: expected int64 values, got a bool")
    elif isinstance(value, int):
        try:
            return array("q", [value]) * n
        except OverflowError as exc:
            raise KernelError(f"{name}: {value} does not fit in int64") from exc
    else:
        try:
            col = array("q", value)
        except (TypeError, OverflowError) as exc:
            raise KernelError(f"{name}: expected int64 values: {exc}") from exc
    if len(col) != n:
        raise KernelError(f"{name}: length {len(col)} != {n}")
    return col


def _check_min_edge(min_edge: object) -> int:
    if type(min_edge) is not int or not -2 * ONE <= min_edge <= ONE:
        raise KernelError(f"min_edge must be an int in [-2_000_000, 1_000_000]: {min_edge!r}")
    return min_edge


def batch_check(
    k_yes: Int64s,
    k_no: Int64s,
    p_yes: Int64s,
    p_no: Int64s,
    k_coef: Int64s | int = 70_000,
    p_rate: Int64s | int = 0,
    min_edge: int = 0,
    *,
    backend: str | None = None,
    out: BatchResult | None = None,
) -> BatchResult:
    """Check N markets' best asks at once; exact twin of :func:`~arbees.arb.top.reference_check`.

    Args:
        k_yes, k_no, p_yes, p_no: best asks per market in micro-units (0 = missing).
        k_coef: Kalshi fee coefficient per market (0.07 × multiplier in micro-units,
            :attr:`~arbees.fees.KalshiFeeModel.kernel_coef`), or one int for all markets.
        p_rate: Polymarket fee rate per market in micro-units
            (:attr:`~arbees.fees.PolymarketFeeModel.kernel_rate`), or one int for all.
        min_edge: flag a combination when its 1-contract edge exceeds this (micro-units).
        backend: override :data:`BACKEND` (one of :func:`available_backends`).
        out: a previous result of the same length whose buffers are reused (native
            backends only fill them in place; saves the allocation on periodic re-scans).

    Raises:
        KernelError: mismatched lengths, non-int64 values, ``min_edge`` outside
            ``[-2e6, 1e6]``, or a fee parameter outside ``[0, 1e6]`` (the index is named).
    """
    n = len(k_yes)
    cols = [
        _column(v, n, name)
        for v, name in (
            (k_yes, "k_yes"),
            (k_no, "k_no"),
            (p_yes, "p_yes"),
            (p_no, "p_no"),
            (k_coef, "k_coef"),
            (p_rate, "p_rate"),
        )
    ]
    edge = _check_min_edge(min_edge)
    chosen = BACKEND if backend is None else backend
    if chosen == "python":
        return _batch_python(cols, edge)  # always fresh buffers
    if chosen not in _native_backends():
        raise KernelError(f"backend {chosen!r} not available: {available_backends()}")
    if out is None:
        out = BatchResult(_new_column("B", n), _new_column("q", n))
    elif len(out.masks) != n or len(out.best_edge) != n:
        raise KernelError(f"out buffers must hold {n} markets")
    if n == 0:
        return out
    ptrs = [_ffi.from_buffer("int64_t[]", c) for c in cols]
    rc = _lib.arbees_batch_check(
        _ISAS[chosen],
        *ptrs,
        edge,
        n,
        _ffi.from_buffer("uint8_t[]", out.masks, require_writable=True),
        _ffi.from_buffer("int64_t[]", out.best_edge, require_writable=True),
    )
    if rc:
        raise KernelError(_rc_message(rc, cols))
    return out


def _new_column(typecode: Literal["B", "q"], n: int) -> memoryview:
    """A column the kernel overwrites entirely: not zeroed first (saves ~1 ns per market)."""
    if n == 0:
        return memoryview(array(typecode))
    ctype = "int64_t" if typecode == "q" else "uint8_t"
    view: memoryview = memoryview(_ffi.buffer(_alloc(f"{ctype}[]", n))).cast(typecode)
    return view


def _rc_message(rc: int, cols: list[array[int] | memoryview]) -> str:
    if rc > 0:
        i = rc - 1
        return (
            f"market {i}: fee parameters outside [0, 1e6]: k_coef={cols[4][i]}, p_rate={cols[5][i]}"
        )
    return f"native kernel refused the call (code {rc})"  # pragma: no cover - checked above


def _batch_python(cols: list[array[int] | memoryview], min_edge: int) -> BatchResult:
    ky, kn, py, pn, kc, pr = cols
    n = len(ky)
    masks = array("B", bytes(n))
    best = array("q", bytes(8 * n))
    for i in range(n):
        c, r = kc[i], pr[i]
        if not (0 <= c <= ONE and 0 <= r <= ONE):
            raise KernelError(
                f"market {i}: fee parameters outside [0, 1e6]: k_coef={c}, p_rate={r}"
            )
        masks[i], best[i] = reference_check(ky[i], kn[i], py[i], pn[i], c, r, min_edge)
    return BatchResult(memoryview(masks), memoryview(best))


def floor_sum(cols: Sequence[Int64s], *, backend: str | None = None) -> int:
    """The benchmark floor: a native loop that only reads the six columns and sums them."""
    chosen = BACKEND if backend is None else backend
    if chosen not in _native_backends():
        raise KernelError("the floor needs the native kernel")
    n = len(cols[0])
    arrays = [_column(c, n, "column") for c in cols]
    ptrs = [_ffi.from_buffer("int64_t[]", c) for c in arrays]
    return int(_lib.arbees_floor_sum(_ISAS[chosen], *ptrs, n))


# ---- events: outcomes x contracts ----

MAX_OUTCOMES: Final = 3
"""Most outcomes of an event (the column layout reserves this many per event)."""
MAX_VENUES: Final = 16
"""Most venues per (outcome, side)."""
PARTITION_ALL_NO: Final = 4
"""Partition id of "NO of both outcomes" (binary events only)."""
NO_PARTITION: Final = 255
"""Partition id of an event where no partition has every contract present."""
LEG_MARGIN: Final = CENT + 10
"""How much the 1-contract top-of-book edge may understate one leg's per-contract edge at a
size of at least one contract (see :func:`prefilter_edge`)."""


def contract_index(event: int, outcome: int, side: int, venue: int, n_venues: int) -> int:
    """Index of contract (``outcome``, ``side`` 0 YES / 1 NO, ``venue``) of ``event`` in the
    columns of :func:`event_check`."""
    return ((event * MAX_OUTCOMES + outcome) * 2 + side) * n_venues + venue


def prefilter_edge(min_edge: int, legs: int) -> int:
    """The ``min_edge`` to give :func:`event_check` so that it flags every event where the
    exact depth walk (:func:`arbees.arb.find_opportunities`, whole-contract sizes) finds an
    opportunity beyond ``min_edge``, for partitions of at most ``legs`` contracts.

    Why a margin: the kernel prices ONE contract per leg with that order's rounded fee, but
    a larger order pays less per contract (Kalshi rounds up to the cent once per order), so
    the top-of-book edge does not bound the depth walk's edge by itself. Proof of the bound:
    a leg buying ``s >= 1`` contracts over asks ``p_i >= p`` (``p`` the best) pays
    ``sum x_i (p_i + c p_i (1 - p_i)) >= s (p + c p (1 - p))`` before rounding, because
    ``p + c p (1 - p)`` is nondecreasing for a coefficient ``c <= 1``; notionals round up,
    the Kalshi fee rounds up (``>=`` raw) and the Polymarket fee rounds half-up once per
    order (``>= raw - 5`` micro-units). The 1-contract fees exceed their raw value by less
    than a cent (Kalshi) and at most 5 micro-units (Polymarket). So per contract the leg
    costs more than its 1-contract cost minus ``CENT + 5 + 5 / s``, at most
    :data:`LEG_MARGIN` for ``s >= 1``, and an opportunity with edge ``> min_edge`` has a
    top-of-book edge ``> min_edge - legs * LEG_MARGIN``. Tested by Hypothesis in
    ``tests/engine/test_engine_events.py``.
    """
    return min_edge - legs * LEG_MARGIN


@attrs.frozen(slots=True)
class EventResult:
    """Output of :func:`event_check`, one entry per event.

    Attributes:
        flags: a memoryview of format ``B``: 1 when ``best_edge > min_edge``.
        partition: a memoryview of format ``B``: the best partition (0 YES of every
            outcome, ``1 + o`` YES and NO of outcome ``o``, :data:`PARTITION_ALL_NO`), the
            lowest id among equal edges, or :data:`NO_PARTITION`.
        best_edge: a memoryview of format ``q``: that partition's 1-contract fee-adjusted
            edge in micro-units, or :data:`NO_EDGE`.
    """

    flags: memoryview
    partition: memoryview
    best_edge: memoryview

    def flagged(self) -> list[int]:
        """Indexes of the flagged events."""
        return [i for i, f in enumerate(self.flags) if f]


def event_check(
    asks: Int64s,
    k_coef: Int64s,
    p_rate: Int64s,
    n_outcomes: Int64s,
    *,
    n_venues: int,
    min_edge: int = 0,
    backend: str | None = None,
) -> EventResult:
    """Best partition and its top-of-book edge of N events at once (layout: the C header).

    Args:
        asks: best ask per contract in micro-units, at :func:`contract_index` (anything
            outside ``(0, 1e6)``, e.g. 0, is missing: a stale or too-old quote goes in as 0).
        k_coef: per contract, the Kalshi-shaped fee coefficient (0.07 × multiplier in
            micro-units; 0 for a contract of another venue or a waived fee).
        p_rate: per contract, the Polymarket-shaped fee rate in micro-units (0 if none).
        n_outcomes: per event, 2 or 3.
        n_venues: venues per (outcome, side), 1..:data:`MAX_VENUES`.
        min_edge: flag an event when its best edge exceeds this (micro-units, in
            ``[-3e6, 1e6]``); see :func:`prefilter_edge`.
        backend: override :data:`BACKEND`.

    Raises:
        KernelError: bad lengths or values, naming the column or the event.
    """
    if type(n_venues) is not int or not 1 <= n_venues <= MAX_VENUES:
        raise KernelError(f"n_venues must be an int in 1..{MAX_VENUES}: {n_venues!r}")
    if type(min_edge) is not int or not -3 * ONE <= min_edge <= ONE:
        raise KernelError(f"min_edge must be an int in [-3_000_000, 1_000_000]: {min_edge!r}")
    outs = _column(n_outcomes, len(n_outcomes), "n_outcomes")
    n = len(outs)
    size = n * MAX_OUTCOMES * 2 * n_venues
    cols = [
        _column(v, size, name)
        for v, name in ((asks, "asks"), (k_coef, "k_coef"), (p_rate, "p_rate"))
    ]
    chosen = BACKEND if backend is None else backend
    if chosen == "python":
        return _events_python(cols, outs, n_venues, min_edge)
    if chosen not in _NATIVE:
        raise KernelError(f"backend {chosen!r} not available: {available_backends()}")
    flags, parts, best = array("B", bytes(n)), array("B", bytes(n)), array("q", bytes(8 * n))
    if n:
        buf = _ffi.from_buffer
        rc = _lib.arbees_event_check(
            buf("int64_t[]", cols[0]),
            buf("int64_t[]", cols[1]),
            buf("int64_t[]", cols[2]),
            buf("int64_t[]", outs),
            n_venues,
            min_edge,
            n,
            buf("uint8_t[]", flags),
            buf("uint8_t[]", parts),
            buf("int64_t[]", best),
        )
        if rc:
            raise KernelError(_event_rc_message(rc, outs))
    return EventResult(memoryview(flags), memoryview(parts), memoryview(best))


class EventBatch:
    """Reusable columns and outputs of :func:`event_check`, for a caller that scans again and
    again (the shard, once per batch of quotes): no allocation and no per-call conversion
    of the columns, which costs more than the kernel itself on a batch of a few events.
    The values are checked as by :func:`event_check` (fee parameters, outcomes, min_edge).

    Use: :meth:`reset` for ``n`` events (every contract missing, fees 0, 2 outcomes), write
    :attr:`asks`, :attr:`k_coef`, :attr:`p_rate` at :func:`contract_index` and
    :attr:`n_outcomes` per event, then :meth:`check`. The result's views are valid until
    the next :meth:`reset`.

    Args:
        n_venues: venues per (outcome, side), 1..:data:`MAX_VENUES`.
        backend: override :data:`BACKEND`.
    """

    def __init__(self, n_venues: int, *, backend: str | None = None) -> None:
        if type(n_venues) is not int or not 1 <= n_venues <= MAX_VENUES:
            raise KernelError(f"n_venues must be an int in 1..{MAX_VENUES}: {n_venues!r}")
        chosen = BACKEND if backend is None else backend
        if chosen != "python" and chosen not in _NATIVE:
            raise KernelError(f"backend {chosen!r} not available: {available_backends()}")
        self.n_venues = n_venues
        self.backend = chosen
        self._slots = MAX_OUTCOMES * 2 * n_venues
        self._n = 0
        self._grow(16)

    def _grow(self, capacity: int) -> None:
        size = capacity * self._slots
        self._capacity = capacity
        self._zeros = array("q", bytes(8 * size))
        self.asks = array("q", self._zeros)
        self.k_coef = array("q", self._zeros)
        self.p_rate = array("q", self._zeros)
        self._twos = array("q", [2]) * capacity
        self.n_outcomes = array("q", self._twos)
        self._flags = array("B", bytes(capacity))
        self._parts = array("B", bytes(capacity))
        self._best = array("q", bytes(8 * capacity))
        if self.backend != "python":
            buf = _ffi.from_buffer
            self._ptrs = (
                buf("int64_t[]", self.asks),
                buf("int64_t[]", self.k_coef),
                buf("int64_t[]", self.p_rate),
                buf("int64_t[]", self.n_outcomes),
                buf("uint8_t[]", self._flags),
                buf("uint8_t[]", self._parts),
                buf("int64_t[]", self._best),
            )

    def reset(self, n: int) -> None:
        """Make room for ``n`` events, all contracts missing."""
        if n > self._capacity:
            self._grow(max(n, 2 * self._capacity))
        elif n:  # (an empty slice assignment would resize the exported arrays)
            size = n * self._slots
            for col in (self.asks, self.k_coef, self.p_rate):
                col[:size] = self._zeros[:size]
            self.n_outcomes[:n] = self._twos[:n]
        self._n = n

    def check(self, min_edge: int) -> EventResult:
        """:func:`event_check` of the ``n`` events of the last :meth:`reset`."""
        if type(min_edge) is not int or not -3 * ONE <= min_edge <= ONE:
            raise KernelError(f"min_edge must be an int in [-3_000_000, 1_000_000]: {min_edge!r}")
        n = self._n
        if self.backend == "python":
            size = n * self._slots
            cols: list[array[int] | memoryview] = [
                self.asks[:size],
                self.k_coef[:size],
                self.p_rate[:size],
            ]
            return _events_python(cols, self.n_outcomes[:n], self.n_venues, min_edge)
        asks, kc, pr, outs, flags, parts, best = self._ptrs
        if n:
            rc = _lib.arbees_event_check(
                asks, kc, pr, outs, self.n_venues, min_edge, n, flags, parts, best
            )
            if rc:
                raise KernelError(_event_rc_message(rc, self.n_outcomes))
        return EventResult(
            memoryview(self._flags)[:n], memoryview(self._parts)[:n], memoryview(self._best)[:n]
        )


def _event_rc_message(rc: int, outs: array[int] | memoryview) -> str:
    if rc > 0:
        return f"event {rc - 1}: a contract's fee parameters are outside [0, 1e6]"
    if rc <= -3:
        e = -rc - 3
        return f"event {e}: n_outcomes must be 2 or 3, got {outs[e]}"
    return f"native event kernel refused the call (code {rc})"  # pragma: no cover


def _events_python(
    cols: list[array[int] | memoryview], outs: array[int] | memoryview, nv: int, min_edge: int
) -> EventResult:
    asks, kc, pr = cols
    n = len(outs)
    flags = array("B", bytes(n))
    parts = array("B", bytes(n))
    best_edge = array("q", bytes(8 * n))
    for e in range(n):
        k = outs[e]
        if k not in (2, 3):
            raise KernelError(f"event {e}: n_outcomes must be 2 or 3, got {k}")
        best: list[list[int | None]] = []
        for o in range(k):
            sides: list[int | None] = []
            for side in (0, 1):
                low = None
                for v in range(nv):
                    i = contract_index(e, o, side, v, nv)
                    p = asks[i]
                    if not 0 < p < ONE:
                        continue
                    if not (0 <= kc[i] <= ONE and 0 <= pr[i] <= ONE):
                        raise KernelError(
                            f"event {e}: a contract's fee parameters are outside [0, 1e6]"
                        )
                    c = unit_cost(p, kc[i], pr[i])
                    low = c if low is None or c < low else low
                sides.append(low)
            best.append(sides)
        candidates: list[tuple[int, list[int | None]]] = [(0, [b[0] for b in best])]
        candidates += [(1 + o, best[o]) for o in range(k)]
        if k == 2:
            candidates.append((PARTITION_ALL_NO, [best[0][1], best[1][1]]))
        top, part = NO_EDGE, NO_PARTITION
        for pid, costs in candidates:
            if all(c is not None for c in costs):
                edge = ONE - sum(c for c in costs if c is not None)
                if edge > top:
                    top, part = edge, pid
        best_edge[e], parts[e] = top, part
        flags[e] = part != NO_PARTITION and top > min_edge
    return EventResult(memoryview(flags), memoryview(parts), memoryview(best_edge))


# ---- the seed's API (prices in whole cents) ----


def _fee_params(
    kalshi_fee: KalshiFeeModel | None, poly_fee: PolymarketFeeModel | None
) -> tuple[int, int]:
    k = (_DEFAULT_K if kalshi_fee is None else kalshi_fee).kernel_coef
    p = 0 if poly_fee is None else poly_fee.kernel_rate
    return k, p


def _cents(value: object, name: str) -> int:
    if type(value) is not int:
        raise KernelError(f"{name}: prices are whole cents (int), got {type(value).__name__}")
    return value * 10_000 if 0 < value < 100 else 0


def simd_check_arbs_py(
    k_yes: int,
    k_no: int,
    p_yes: int,
    p_no: int,
    threshold_cents: int = 100,
    *,
    kalshi_fee: KalshiFeeModel | None = None,
    poly_fee: PolymarketFeeModel | None = None,
) -> int:
    """Pure-Python twin of :func:`simd_check_arbs` (same results, used as its reference)."""
    kc, pr = _fee_params(kalshi_fee, poly_fee)
    if type(threshold_cents) is not int:
        raise KernelError("threshold_cents must be an int")
    threshold = min(max(threshold_cents, -200), 300)
    mask, _ = reference_check(
        _cents(k_yes, "k_yes"),
        _cents(k_no, "k_no"),
        _cents(p_yes, "p_yes"),
        _cents(p_no, "p_no"),
        kc,
        pr,
        ONE - threshold * CENT,
    )
    return mask


def simd_check_arbs(
    k_yes: int,
    k_no: int,
    p_yes: int,
    p_no: int,
    threshold_cents: int = 100,
    *,
    kalshi_fee: KalshiFeeModel | None = None,
    poly_fee: PolymarketFeeModel | None = None,
) -> int:
    """Seed API: mask of combinations whose fee-adjusted cost is strictly < ``threshold_cents``.

    Prices are whole cents (ints); 0 or anything outside 1..99 is missing and never flags.
    Kalshi legs pay the 1-contract Kalshi fee rounded up to the cent (standard taker unless
    ``kalshi_fee`` says otherwise); Polymarket legs pay ``poly_fee``'s 1-share fee (none when
    ``poly_fee`` is None, as in the seed — pass the market's schedule). Bits: 1
    PolyYes+KalshiNo, 2 KalshiYes+PolyNo, 4 PolyOnly, 8 KalshiOnly.
    """
    if _lib is None or BACKEND == "python":
        return simd_check_arbs_py(
            k_yes, k_no, p_yes, p_no, threshold_cents, kalshi_fee=kalshi_fee, poly_fee=poly_fee
        )
    kc, pr = (
        (70_000, 0)
        if kalshi_fee is None and poly_fee is None
        else _fee_params(kalshi_fee, poly_fee)
    )
    try:
        return int(_lib.arbees_check_cents(k_yes, k_no, p_yes, p_no, threshold_cents, kc, pr))
    except (TypeError, OverflowError) as exc:
        raise KernelError(f"simd_check_arbs: prices are whole cents (int64): {exc}") from exc


def simd_decode_mask(mask: int) -> list[str]:
    """Seed API: names of the set bits in bit order (``"PolyYes+KalshiNo"``, ...)."""
    return decode_mask(mask)


_LEG_PRICES: Final = {1: (2, 1), 2: (0, 3), 4: (2, 3), 8: (0, 1)}  # indexes into (ky, kn, py, pn)


def simd_calculate_profit(
    k_yes: int,
    k_no: int,
    p_yes: int,
    p_no: int,
    arb_type: int,
    *,
    kalshi_fee: KalshiFeeModel | None = None,
    poly_fee: PolymarketFeeModel | None = None,
) -> int:
    """Seed API: fee-adjusted profit in whole cents of ONE contract of combination ``arb_type``.

    ``100 - cost - fees``, rounded down to the cent (Polymarket fees can be fractions of a
    cent). Returns 0 when a leg is missing or ``arb_type`` is not a single known bit.
    """
    legs = _LEG_PRICES.get(arb_type)
    if legs is None:
        return 0
    kc, pr = _fee_params(kalshi_fee, poly_fee)
    prices = [
        _cents(v, n)
        for v, n in ((k_yes, "k_yes"), (k_no, "k_no"), (p_yes, "p_yes"), (p_no, "p_no"))
    ]
    a, b = (prices[i] for i in legs)
    if not a or not b:
        return 0
    args = [0, 0, 0, 0]
    args[legs[0]], args[legs[1]] = a, b
    _, edge = reference_check(args[0], args[1], args[2], args[3], kc, pr, 0)
    return edge // CENT


def simd_batch_scan(
    markets: Iterable[Sequence[int]],
    threshold_cents: int = 100,
    *,
    kalshi_fee: KalshiFeeModel | None = None,
    poly_fee: PolymarketFeeModel | None = None,
) -> list[tuple[int, int]]:
    """Seed API: ``(index, mask)`` of every flagged market among ``(k_yes, k_no, p_yes, p_no)``
    cent tuples; runs :func:`batch_check` on the whole list."""
    kc, pr = _fee_params(kalshi_fee, poly_fee)
    if type(threshold_cents) is not int:
        raise KernelError("threshold_cents must be an int")
    threshold = min(max(threshold_cents, -200), 300)
    cols: list[array[int]] = [array("q") for _ in range(4)]
    for row in markets:
        if len(row) != 4:
            raise KernelError(f"a market is 4 prices in cents, got {len(row)}")
        for col, value, name in zip(cols, row, ("k_yes", "k_no", "p_yes", "p_no"), strict=True):
            col.append(_cents(value, name))
    ky, kn, py, pn = cols
    result = batch_check(ky, kn, py, pn, k_coef=kc, p_rate=pr, min_edge=ONE - threshold * CENT)
    return result.flagged()
