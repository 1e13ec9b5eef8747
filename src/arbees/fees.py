"""Exact trading fees of every venue, for whole orders.

Why a module of its own: the seed priced fees per contract with floats, assumed Polymarket
was fee-free and truncated ``0.43`` to 42 cents. Every one of those errors can turn a losing
trade into a "signal". Here fees are integer arithmetic on micro-units (see
:mod:`arbees.money`) with the venues' own rounding, computed for the WHOLE order, because
Kalshi rounds once per order and the per-contract fee therefore falls with size.

Kalshi (docs: ``kalshi.md`` "Fees")::

    fee = round_up_to_cent(k × multiplier × C × P × (1 − P))     k = 0.07 taker, 0.0175 maker

Polymarket (docs: ``polymarket.md`` "Fees", taker only, fee-enabled markets only)::

    fee = round_5dp(shares × rate × (P × (1 − P)) ** exponent)

The docs say "rounded to 5 decimals" without a mode; we round **half-up** (ties away from
zero; fees are never negative) and say so wherever it matters.

Polymarket US (issue 17: two published versions; :class:`PolymarketUsFeeModel`, taker
only)::

    fee = round_up_to_cent(max(bps / 10_000 × C × P, rate × C × P × (1 − P)))   per fill,
          bps = 30, rate = 0.05 by default; a market's own schedule picks one of the two

Factors (``multiplier``, ``rate``) are plain numbers given as :class:`~decimal.Decimal`,
``int`` (a whole number: ``multiplier=1`` means 1×) or an exact decimal string; they are held
internally as micro-units and must be exact at that precision. Prices and counts are
:data:`~arbees.money.Fixed` micro-units.

An order that walks several price levels pays, per venue rule, one fee for the whole order:
the raw (unrounded) fee of each fill is summed and rounded once (:meth:`KalshiFeeModel.order_fee`,
:meth:`PolymarketFeeModel.order_fee`).

Example::

    >>> kalshi_fee(500_000, 10 * ONE)          # 10 contracts at $0.50 -> $0.18
    180000
    >>> polymarket_fee(500_000, 100 * ONE, rate=Decimal("0.05"))   # $1.25
    1250000
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Final

import attrs

from arbees.errors import ConfigError, DecodeError, KernelError
from arbees.messages import FeeTerms
from arbees.money import CENT, ONE, Fixed, ceil_div

__all__ = [
    "KALSHI_MAKER_RATE",
    "KALSHI_TAKER_RATE",
    "POLYMARKET_SPORTS_RATE",
    "POLYMARKET_US_CURVE_RATE",
    "POLYMARKET_US_TAKER_BPS",
    "Factor",
    "FeeModel",
    "KalshiFeeModel",
    "MarketFees",
    "PolymarketFeeModel",
    "PolymarketUsFeeModel",
    "fee_terms",
    "kalshi_fee",
    "polymarket_fee",
    "terms_model",
    "to_factor",
]

Factor = Decimal | int | str
"""A plain (not micro-unit) number: ``Decimal("0.05")``, ``1`` or ``"0.05"``."""

KALSHI_TAKER_RATE: Final = 70_000
"""0.07 in micro-units."""
KALSHI_MAKER_RATE: Final = 17_500
"""0.0175 in micro-units."""
POLYMARKET_SPORTS_RATE: Final = Decimal("0.05")
"""Polymarket's sports taker rate: the rate of a fee-enabled market with no readable
schedule (an overestimate loses a signal, an underestimate would invent one)."""

_KALSHI_RAW_EXP: Final = 30  # rate(1e-6) x mult(1e-6) x count(1e-6) x P(1e-6) x (1-P)(1e-6)
_KALSHI_CENT_UNITS: Final = 10 ** (_KALSHI_RAW_EXP - 2)
_MAX_MULTIPLIER: Final = 10 * ONE  # keeps P + fee(P) increasing in P (0.07 x 10 < 1)
_MAX_EXPONENT: Final = 4


def to_factor(value: object, *, name: str = "factor") -> Fixed:
    """A plain number (Decimal, whole int, exact decimal string) as exact micro-units.

    Raises :class:`~arbees.errors.ConfigError` for anything else (floats, booleans, NaN,
    more than 6 decimals): a fee schedule is configuration.
    """
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a number, got a bool")
    if isinstance(value, int):
        return value * ONE
    try:
        d = Decimal(value) if isinstance(value, str) else value
    except InvalidOperation as exc:
        raise ConfigError(f"{name}: not a decimal number: {value!r:.40}") from exc
    if not isinstance(d, Decimal) or not d.is_finite():
        raise ConfigError(f"{name}: expected a Decimal, int or decimal string, got {value!r:.40}")
    scaled = d.scaleb(6)
    if scaled != scaled.to_integral_value():
        raise ConfigError(f"{name}: more precision than 1e-6: {d}")
    return int(scaled)


def _check_price(price: Fixed, count: Fixed) -> None:
    if not 0 <= price <= ONE:
        raise DecodeError(f"price outside [0, 1]: {price}", field="price")
    if count < 0:
        raise DecodeError(f"negative count: {count}", field="count")


def _kalshi_raw(rate_x_mult: int, price: Fixed, count: Fixed) -> int:
    return rate_x_mult * count * price * (ONE - price)


def _kalshi_round(raw: int) -> Fixed:
    return ceil_div(raw, _KALSHI_CENT_UNITS) * CENT


def kalshi_fee(price: Fixed, count: Fixed, *, multiplier: Factor = 1, maker: bool = False) -> Fixed:
    """Kalshi fee in micro-units for ONE order of ``count`` contracts at ``price``.

    ``round_up_to_cent(0.07 × multiplier × C × P × (1 − P))`` (0.0175 for ``maker``), exact.
    1 @ $0.50 -> $0.02; 10 @ $0.50 -> $0.18; 100 @ $0.50 -> $1.75.
    """
    _check_price(price, count)
    rate = KALSHI_MAKER_RATE if maker else KALSHI_TAKER_RATE
    m = to_factor(multiplier, name="multiplier")
    return _kalshi_round(_kalshi_raw(rate * m, price, count))


def _poly_raw(rate: Fixed, exponent: int, price: Fixed, shares: Fixed) -> int:
    weight: int = (price * (ONE - price)) ** exponent
    return shares * rate * weight


def _poly_round(raw: int, exponent: int) -> Fixed:
    # raw is in units of 1e-(12 + 12*exponent) dollars; round half-up to 1e-5 dollars.
    unit: int = 10 ** (12 + 12 * exponent - 5)
    return ((raw + unit // 2) // unit) * 10


def polymarket_fee(price: Fixed, shares: Fixed, *, rate: Factor, exponent: int = 1) -> Fixed:
    """Polymarket taker fee in micro-units for ONE order of ``shares`` at ``price``.

    ``shares × rate × (P × (1 − P)) ** exponent`` rounded half-up to 5 decimals (a multiple
    of 10 micro-units). A rate of 0 (or a fee-disabled market, see
    :class:`PolymarketFeeModel`) gives 0.
    """
    _check_price(price, shares)
    r = to_factor(rate, name="rate")
    _check_exponent(exponent)
    return _poly_round(_poly_raw(r, exponent, price, shares), exponent)


def _check_exponent(exponent: object) -> None:
    if type(exponent) is not int or not 0 <= exponent <= _MAX_EXPONENT:
        raise ConfigError(f"exponent must be a whole number 0..{_MAX_EXPONENT}: {exponent!r}")


def _to_decimal_factor(value: Factor) -> Decimal:
    d = Decimal(to_factor(value)).scaleb(-6).normalize()
    return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d  # type: ignore[operator]


@attrs.frozen(slots=True)
class KalshiFeeModel:
    """The fee schedule of one Kalshi market.

    Attributes:
        multiplier: the series' ``fee_multiplier`` (a plain number; 1 for NBA/NHL games).
        maker: price as a maker (0.0175) instead of a taker (0.07). arbees takes liquidity,
            so the default is taker.
        waived: the market has a future ``fee_waiver_expiration_time``: no fee at all.

    Example::

        KalshiFeeModel().fee(500_000, 10 * ONE)  # 180000 ($0.18)
    """

    multiplier: Decimal = attrs.field(default=Decimal(1), converter=_to_decimal_factor)
    maker: bool = False
    waived: bool = False
    _rate_x_mult: int = attrs.field(init=False, repr=False, eq=False)
    _unit_cache: dict[int, int] = attrs.field(init=False, repr=False, eq=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        m = to_factor(self.multiplier, name="multiplier")
        if not 0 <= m <= _MAX_MULTIPLIER:
            raise ConfigError(f"multiplier must be in [0, 10]: {self.multiplier}")
        rate = 0 if self.waived else (KALSHI_MAKER_RATE if self.maker else KALSHI_TAKER_RATE)
        object.__setattr__(self, "_rate_x_mult", rate * m)

    @property
    def raw_exp(self) -> int:
        """Raw fees (:meth:`raw`) count units of ``10 ** -raw_exp`` dollars."""
        return _KALSHI_RAW_EXP

    @property
    def rounding(self) -> tuple[Fixed, Fixed]:
        """``(down, up)``: the most micro-units :meth:`round_raw` can take from / add to a
        raw fee (rounded up to the cent)."""
        return 0, CENT

    def fee(self, price: Fixed, count: Fixed) -> Fixed:
        """Fee of one order of ``count`` contracts at ``price`` (micro-units)."""
        _check_price(price, count)
        return _kalshi_round(_kalshi_raw(self._rate_x_mult, price, count))

    def raw(self, price: Fixed, count: Fixed) -> int:
        """Unrounded fee of one fill, in units of ``10 ** -raw_exp`` dollars."""
        return _kalshi_raw(self._rate_x_mult, price, count)

    def round_raw(self, raw: int) -> Fixed:
        """The fee charged for an order whose fills' raw fees sum to ``raw``."""
        return _kalshi_round(raw)

    def order_fee(self, fills: Iterable[tuple[Fixed, Fixed]]) -> Fixed:
        """Fee of one order filled as ``(price, count)`` pieces: rounded once, up to the cent."""
        total = 0
        for price, count in fills:
            _check_price(price, count)
            total += self.raw(price, count)
        return _kalshi_round(total)

    def unit_fee(self, price: Fixed) -> Fixed:
        """Fee of a single 1-contract order at ``price`` (cached; the top-of-book hot path)."""
        cached = self._unit_cache.get(price)
        if cached is None:
            cached = self.fee(price, ONE)
            if len(self._unit_cache) < 100_000:
                self._unit_cache[price] = cached
        return cached

    @property
    def kernel_coef(self) -> int:
        """Fee coefficient for the batch kernel: ``k × multiplier`` in micro-units (0 if waived).

        Raises :class:`~arbees.errors.KernelError` when it is not a whole number of
        micro-units (a multiplier with more than 4 decimals).
        """
        coef, rem = divmod(self._rate_x_mult, ONE)
        if rem:
            raise KernelError(f"Kalshi fee coefficient not exact in micro-units: {self!r}")
        return coef


@attrs.frozen(slots=True)
class PolymarketFeeModel:
    """The fee schedule of one Polymarket market (from its Gamma ``feeSchedule``).

    Attributes:
        rate: ``feeSchedule.rate`` (plain number, e.g. ``Decimal("0.05")`` for sports).
        exponent: ``feeSchedule.exponent`` (whole number; 1 in late 2026).
        enabled: the market's ``feesEnabled``; False means no fee at all.
        min_order_size: the book's ``min_order_size`` in micro-units of shares, when known;
            an opportunity never proposes a smaller Polymarket order.

    Example::

        PolymarketFeeModel(Decimal("0.05")).fee(500_000, 100 * ONE)  # 1250000 ($1.25)
    """

    rate: Decimal = attrs.field(converter=_to_decimal_factor)
    exponent: int = 1
    enabled: bool = True
    min_order_size: Fixed | None = None
    _rate: int = attrs.field(init=False, repr=False, eq=False)
    _unit_cache: dict[int, int] = attrs.field(init=False, repr=False, eq=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        r = to_factor(self.rate, name="rate")
        if not 0 <= r < ONE:
            raise ConfigError(f"rate must be in [0, 1): {self.rate}")
        _check_exponent(self.exponent)
        if self.min_order_size is not None and (
            type(self.min_order_size) is not int or self.min_order_size < 0
        ):
            raise ConfigError(f"min_order_size must be micro-units >= 0: {self.min_order_size!r}")
        object.__setattr__(self, "_rate", r if self.enabled else 0)

    @property
    def raw_exp(self) -> int:
        """Raw fees (:meth:`raw`) count units of ``10 ** -raw_exp`` dollars."""
        return 12 + 12 * self.exponent

    @property
    def rounding(self) -> tuple[Fixed, Fixed]:
        """``(down, up)``: the most micro-units :meth:`round_raw` can take from / add to a
        raw fee (half-up to 1e-5 dollars: 5 micro-units either way)."""
        return 5, 5

    def fee(self, price: Fixed, shares: Fixed) -> Fixed:
        """Fee of one order of ``shares`` at ``price`` (micro-units, a multiple of 10)."""
        _check_price(price, shares)
        return _poly_round(_poly_raw(self._rate, self.exponent, price, shares), self.exponent)

    def raw(self, price: Fixed, shares: Fixed) -> int:
        """Unrounded fee of one fill, in units of ``10 ** -raw_exp`` dollars."""
        return _poly_raw(self._rate, self.exponent, price, shares)

    def round_raw(self, raw: int) -> Fixed:
        """The fee charged for an order whose fills' raw fees sum to ``raw`` (half-up, 5 dp)."""
        return _poly_round(raw, self.exponent)

    def order_fee(self, fills: Iterable[tuple[Fixed, Fixed]]) -> Fixed:
        """Fee of one order filled as ``(price, shares)`` pieces, rounded once."""
        total = 0
        for price, shares in fills:
            _check_price(price, shares)
            total += self.raw(price, shares)
        return _poly_round(total, self.exponent)

    def unit_fee(self, price: Fixed) -> Fixed:
        """Fee of a 1-share order at ``price`` (cached; the top-of-book hot path)."""
        cached = self._unit_cache.get(price)
        if cached is None:
            cached = self.fee(price, ONE)
            if len(self._unit_cache) < 100_000:
                self._unit_cache[price] = cached
        return cached

    @property
    def kernel_rate(self) -> int:
        """Fee rate for the batch kernel in micro-units (0 when disabled).

        Raises :class:`~arbees.errors.KernelError` for an enabled market whose exponent is
        not 1 (the kernel implements exponent 1 only).
        """
        if self._rate and self.exponent != 1:
            raise KernelError(f"the kernel supports exponent 1 only: {self!r}")
        return self._rate


_PMUS_RAW_EXP: Final = 24  # rate(1e-6) x count(1e-6) x P(1e-6) x (1-P or 1)(1e-6)
_PMUS_SCHEDULES: Final = ("higher", "notional", "curve")
POLYMARKET_US_TAKER_BPS: Final = 30
"""Polymarket US's first published taker fee: 30 bps of the notional (maker rebate aside)."""
POLYMARKET_US_CURVE_RATE: Final = Decimal("0.05")
"""Polymarket US's later published taker fee coefficient: ``0.05 × C × p × (1 − p)``."""


@attrs.frozen(slots=True)
class PolymarketUsFeeModel:
    """The taker fee of one Polymarket US market.

    Two versions were published (issue 17): ``taker_bps`` basis points of the notional
    (``bps / 10_000 × C × p``, with a maker rebate arbees never earns: it takes liquidity)
    and ``rate × C × p × (1 − p)``. ``schedule`` says which applies: ``"notional"``,
    ``"curve"``, or ``"higher"`` (the default when the market's metadata does not say:
    each fill pays the larger of the two at its price, so an order pays at least the
    higher of the two totals). Fees are exact and rounded once per order UP (against the
    user) to ``round_to`` micro-units (a cent by default: the venue documents no rounding).

    Attributes:
        schedule: ``"higher"``, ``"notional"`` or ``"curve"``.
        taker_bps: the notional fee in basis points (whole number, 0..10000).
        rate: the curve coefficient (plain number in [0, 1)).
        round_to: rounding unit in micro-units (>= 1), rounding up.
        min_order_size: smallest order in micro-units of contracts (0.01 by default).

    Example::

        PolymarketUsFeeModel().fee(500_000, 100 * ONE)  # 1250000: 0.05 x 100 x 0.25 > $0.15
    """

    schedule: str = "higher"
    taker_bps: int = POLYMARKET_US_TAKER_BPS
    rate: Decimal = attrs.field(default=POLYMARKET_US_CURVE_RATE, converter=_to_decimal_factor)
    round_to: Fixed = CENT
    min_order_size: Fixed | None = ONE // 100
    _notional: int = attrs.field(init=False, repr=False, eq=False)
    _curve: int = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.schedule not in _PMUS_SCHEDULES:
            raise ConfigError(f"Polymarket US fee schedule must be one of {_PMUS_SCHEDULES}")
        if type(self.taker_bps) is not int or not 0 <= self.taker_bps <= 10_000:
            raise ConfigError(f"taker_bps must be a whole number 0..10000: {self.taker_bps!r}")
        r = to_factor(self.rate, name="rate")
        if not 0 <= r < ONE:
            raise ConfigError(f"rate must be in [0, 1): {self.rate}")
        if type(self.round_to) is not int or self.round_to < 1:
            raise ConfigError(f"round_to must be micro-units >= 1: {self.round_to!r}")
        if self.min_order_size is not None and (
            type(self.min_order_size) is not int or self.min_order_size < 0
        ):
            raise ConfigError(f"min_order_size must be micro-units >= 0: {self.min_order_size!r}")
        notional = self.taker_bps * 100 * ONE if self.schedule != "curve" else 0
        object.__setattr__(self, "_notional", notional)
        object.__setattr__(self, "_curve", r if self.schedule != "notional" else 0)

    @property
    def raw_exp(self) -> int:
        """Raw fees (:meth:`raw`) count units of ``10 ** -raw_exp`` dollars."""
        return _PMUS_RAW_EXP

    @property
    def rounding(self) -> tuple[Fixed, Fixed]:
        """``(down, up)``: the most micro-units :meth:`round_raw` can take from / add to a
        raw fee (rounded up to ``round_to``)."""
        return 0, self.round_to

    def raw(self, price: Fixed, count: Fixed) -> int:
        """Unrounded fee of one fill: the larger of the schedules in force, at its price."""
        notional: int = self._notional * count * price
        curve: int = self._curve * count * price * (ONE - price)
        return notional if notional > curve else curve

    def round_raw(self, raw: int) -> Fixed:
        """The fee charged for an order whose fills' raw fees sum to ``raw`` (rounded up)."""
        unit = self.round_to * 10 ** (_PMUS_RAW_EXP - 6)
        return ceil_div(raw, unit) * self.round_to

    def fee(self, price: Fixed, count: Fixed) -> Fixed:
        """Fee of one order of ``count`` contracts at ``price`` (micro-units)."""
        _check_price(price, count)
        return self.round_raw(self.raw(price, count))

    def order_fee(self, fills: Iterable[tuple[Fixed, Fixed]]) -> Fixed:
        """Fee of one order filled as ``(price, count)`` pieces, rounded once."""
        total = 0
        for price, count in fills:
            _check_price(price, count)
            total += self.raw(price, count)
        return self.round_raw(total)

    def unit_fee(self, price: Fixed) -> Fixed:
        """Fee of a 1-contract order at ``price``."""
        return self.fee(price, ONE)


FeeModel = KalshiFeeModel | PolymarketFeeModel | PolymarketUsFeeModel
"""A venue's fee model for one market."""


@attrs.frozen
class MarketFees:
    """One market's fee model, as its venue's own metadata gives it (``Venue.fee_model``).

    Attributes:
        model: the market's fee model.
        defaulted: the metadata had no usable fee fields, so ``model`` is the venue's
            conservative default (discovery counts and logs each matched game that has one).
    """

    model: FeeModel
    defaulted: bool = False


def fee_terms(venue: str, model: FeeModel) -> FeeTerms:
    """``venue``'s fee terms for an assignment, from one market's fee model.

    A Kalshi model gives ``kind="kalshi"`` and its multiplier (a waived one multiplier 0,
    which charges nothing); an enabled Polymarket model ``kind="polymarket"``, its rate and
    exponent; a disabled one, or one of rate 0, ``kind="none"``. The minimum order size goes
    along.
    """
    if isinstance(model, KalshiFeeModel):
        multiplier = Decimal(0) if model.waived else model.multiplier
        return FeeTerms(venue=venue, kind="kalshi", multiplier=format(multiplier, "f"))
    if isinstance(model, PolymarketUsFeeModel):
        if model.round_to != CENT:
            raise ConfigError("Polymarket US fee terms carry the cent rounding only")
        return FeeTerms(
            venue=venue,
            kind="polymarket-us",
            schedule=model.schedule,
            taker_bps=model.taker_bps,
            rate=format(model.rate, "f"),
            min_order_size=model.min_order_size,
        )
    size = model.min_order_size
    if not model.enabled or model.rate == 0:
        return FeeTerms(venue=venue, kind="none", min_order_size=size)
    return FeeTerms(
        venue=venue,
        kind="polymarket",
        rate=format(model.rate, "f"),
        exponent=model.exponent,
        min_order_size=size,
    )


def terms_model(terms: FeeTerms) -> FeeModel:
    """The fee model that ``terms`` describe (the inverse of :func:`fee_terms`).

    ``kalshi``: :class:`KalshiFeeModel` of the multiplier. ``polymarket``:
    :class:`PolymarketFeeModel` of the rate and exponent (a rate of 0 charges nothing).
    ``polymarket-us``: :class:`PolymarketUsFeeModel` of the schedule, notional bps and
    curve rate. ``none``: a disabled :class:`PolymarketFeeModel` (no fee on any order).
    Every form but Kalshi's carries the minimum order size.

    Raises :class:`~arbees.errors.ConfigError` for terms the fee models refuse (not an
    exact decimal within 1e-6, out of range, an unknown kind) — never a default.
    """
    size = terms.min_order_size
    if size is not None and (type(size) is not int or size < 0):
        raise ConfigError(f"min_order_size must be micro-units >= 0: {size!r:.40}")
    if terms.kind == "kalshi":
        return KalshiFeeModel(multiplier=_exact(terms.multiplier, "multiplier"))
    if terms.kind == "polymarket":
        rate = _exact(terms.rate, "rate")
        return PolymarketFeeModel(
            rate, terms.exponent, enabled=rate > 0, min_order_size=terms.min_order_size
        )
    if terms.kind == "polymarket-us":
        return PolymarketUsFeeModel(
            schedule=terms.schedule,
            taker_bps=terms.taker_bps,
            rate=_exact(terms.rate, "rate"),
            min_order_size=terms.min_order_size,
        )
    if terms.kind == "none":
        return PolymarketFeeModel(Decimal(0), enabled=False, min_order_size=terms.min_order_size)
    raise ConfigError(f"unknown fee kind {terms.kind[:20]!r}")


_MAX_FEE_TEXT: Final = 32  # "0.0175" needs 6; the longest sane rate or multiplier is far shorter


def _exact(text: str, name: str) -> Decimal:
    if len(text) > _MAX_FEE_TEXT:
        raise ConfigError(f"{name}: {len(text)} characters is not a fee")
    try:
        value = Decimal(text)
    except (ArithmeticError, ValueError) as exc:
        raise ConfigError(f"{name}: not a decimal number: {text!r}") from exc
    if not value.is_finite():
        raise ConfigError(f"{name}: not a finite number: {text!r}")
    try:
        to_factor(value, name=name)  # exact in micro-units, or ConfigError
    except ArithmeticError as exc:  # e.g. 1e999999 overflows the context
        raise ConfigError(f"{name}: out of range: {text[:40]!r}") from exc
    return value
