"""What each service is built from: frozen settings, by keyword or from the environment.

One definition of every variable's name and default: ``from_env(environ, **overrides)``
reads the variables of the README's configuration table from the mapping it is given
(never ``os.environ`` by itself; the CLI passes the environment, the library passes
nothing). An override — a keyword named like the field, e.g. a command-line option — wins
over its variable. Every value is checked here, and a bad one is a :class:`ConfigError`
naming the variable or field, never a traceback.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import attrs

from arbees.config import env_bool
from arbees.egress import EgressSettings
from arbees.errors import ConfigError, DecodeError
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import DEMO_WS_URL as KALSHI_DEMO_WS_URL
from arbees.kalshi.feed import PROD_WS_URL as KALSHI_WS_URL
from arbees.kalshi.rest import DEMO_REST_URL as KALSHI_DEMO_REST_URL
from arbees.kalshi.rest import PROD_REST_URL as KALSHI_REST_URL
from arbees.matching.leagues import LEAGUE_TABLE
from arbees.money import CENT, Fixed, parse_fixed
from arbees.obs.health import default_instance
from arbees.polymarket.feed import DEFAULT_WS_URL as POLYMARKET_WS_URL
from arbees.polymarket.rest import DEFAULT_CLOB_URL as CLOB_URL
from arbees.polymarket.rest import DEFAULT_GAMMA_URL as GAMMA_URL
from arbees.polymarket.sports import SPORTS_WS_URL
from arbees.polymarket_us.auth import PolymarketUsSigner
from arbees.polymarket_us.feed import PROD_WS_URL as POLYMARKET_US_WS_URL
from arbees.services.orchestrator import OrchestratorConfig
from arbees.services.shard_engine import SEND_TIME_VENUES
from arbees.settlement import parse_rules
from arbees.wiring.discovery import DEFAULT_DISCOVERY_DEADLINE, DEFAULT_SERIES
from arbees.wsdriver import Backoff

__all__ = [
    "CLOB_URL",
    "DEFAULT_SERIES",
    "GAMMA_URL",
    "KALSHI_REST_URL",
    "KALSHI_WS_URL",
    "MONITOR_VENUES",
    "POLYMARKET_US_WS_URL",
    "POLYMARKET_WS_URL",
    "SHARD_VENUES",
    "SPORTS_WS_URL",
    "MonitorSettings",
    "OrchestratorSettings",
    "PaperSettings",
    "ShardSettings",
    "kalshi_keepalive_interval",
    "parse_amount",
    "parse_cents",
    "parse_on_off",
]

T = TypeVar("T")

SHARD_VENUES: Final = ("kalshi", "polymarket", "polymarket-us")
"""The venues a shard can read (``SHARD_VENUES``): Kalshi always, each other one at most
once. Kalshi and Polymarket US are read directly; Polymarket from the monitor over the bus
or directly behind its egress check."""

_LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "[::1]")

MONITOR_VENUES: Final = ("polymarket", "polymarket-us")
"""The venues a monitor can stream (``MONITOR_VENUE``): Polymarket (the seed's price updates
on ``polymarket:prices``, behind the egress guard) or Polymarket US (``VenueQuote`` s on
``quotes:polymarket-us``, direct: no VPN route, no egress check)."""

# The floor of the Kalshi keepalive period (seconds): see kalshi_keepalive_interval.
KEEPALIVE_FLOOR: Final = 0.25


def kalshi_keepalive_interval(max_price_age_ms: int) -> float:
    """Seconds between Kalshi keepalive round trips for a shard with this price age.

    A quiet Kalshi book stays usable only while its socket proves it is alive, so a round
    trip every half price age keeps a correct, unchanged book fresh. The floor keeps a tiny
    ``MAX_PRICE_AGE_MS`` from becoming a ping flood against the venue: below 500 ms quiet
    books then go stale between round trips, which only withholds signals (fails safe).
    """
    return max(KEEPALIVE_FLOOR, max_price_age_ms / 2000)


class _Reader:
    """Values from ``overrides`` (by field) or else ``environ`` (by variable), parsed."""

    def __init__(self, environ: Mapping[str, str], overrides: dict[str, Any]) -> None:
        self.environ = environ
        self.overrides = overrides

    def raw(self, var: str) -> str | None:
        value = self.environ.get(var)
        return None if value is None or value.strip() == "" else value.strip()

    def get(self, field: str, var: str, parse: Callable[[str], T], default: T) -> T:
        if field in self.overrides:
            return self.overrides.pop(field)  # type: ignore[no-any-return]
        raw = self.raw(var)
        if raw is None:
            return default
        try:
            return parse(raw)
        except (ValueError, DecodeError, ConfigError) as exc:
            raise ConfigError(f"{var}: {exc}") from None

    def text(self, field: str, var: str, default: str) -> str:
        return self.get(field, var, str, default)

    def integer(self, field: str, var: str, default: int) -> int:
        return self.get(field, var, _integer, default)

    def number(self, field: str, var: str, default: float) -> float:
        return self.get(field, var, _number, default)

    def kalshi_env(self) -> str:
        value = (self.raw("KALSHI_ENV") or "prod").lower()
        if value not in ("prod", "demo"):
            raise ConfigError(f"KALSHI_ENV: expected prod or demo, got {value!r:.30}")
        return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected an integer, got {text!r:.30}") from None


def _number(text: str) -> float:
    """Seconds and other timings (not money): a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r:.30}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {text!r:.30}")
    return value


def parse_amount(text: str) -> Fixed | None:
    """An exact decimal >= 0 (contracts or dollars) in micro-units; empty = no limit."""
    if text.strip() == "":
        return None
    try:
        value = parse_fixed(text.strip())
    except DecodeError:
        raise ValueError(f"not an exact decimal: {text!r:.30}") from None
    if value < 0:
        raise ValueError(f"must be >= 0: {text!r:.30}")
    return value


def parse_cents(text: str) -> Fixed:
    """Cents (an exact decimal) as micro-dollars: ``"1.5"`` -> 15_000."""
    try:
        cents = parse_fixed(text)
    except DecodeError:
        raise ValueError(f"not an exact decimal: {text!r:.30}") from None
    return cents * CENT // 1_000_000  # exact: CENT micro-dollars per cent


def _positive(*names: str) -> Callable[[Any], None]:
    def check(self: Any) -> None:
        for name in names:
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}")

    return check


@attrs.frozen
class MonitorSettings:
    """The Polymarket monitor: egress-guarded market feed, REST audit, bus out.

    Attributes:
        egress: the egress check of the monitor's route (it always checks).
        ws_url: market-channel WebSocket (``POLYMARKET_WS_URL``).
        clob_url: CLOB REST root of the book audit (``POLYMARKET_CLOB_URL``).
        audit_interval: seconds between REST audits, 0 disables (``POLYMARKET_AUDIT_INTERVAL``).
        proxy: CONNECT proxy of the whole route (``POLYMARKET_PROXY_URL``).
        tokens_per_socket: tokens per WebSocket (``POLYMARKET_TOKENS_PER_SOCKET``).
        max_tokens: tokens streamed at most (``MONITOR_MAX_TOKENS``).
        silence_timeout: reconnect a socket silent this long (``POLYMARKET_SILENCE_TIMEOUT``).
        instance: health instance id (``MONITOR_ID``; default: host name from the env).
        heartbeat_interval: seconds between health heartbeats.
        resync_interval: minimum seconds between forced resyncs of one socket.
        snapshot_timeout: seconds to wait for the snapshot of an added token.
        reconnect: reconnect backoff of the sockets (``None``: the feed's own).
        sports_ws_url: Polymarket's sports WebSocket, whose game states the monitor
            publishes on ``arbees:game_states`` behind the same verified egress
            (``POLYMARKET_SPORTS_WS_URL``, ``off`` for none); ``None``: no game states.
        sports_silence_timeout: reconnect the sports socket after this long without a
            frame, its pings included (``POLYMARKET_SPORTS_SILENCE_TIMEOUT``).
        venue: the venue streamed (``MONITOR_VENUE``, one of :data:`MONITOR_VENUES`;
            default ``polymarket``). ``polymarket-us``: one process holding Polymarket US's
            sockets for every shard (its subscriptions are limited per key), publishing
            ``VenueQuote`` s; no egress check (``egress`` unused), no sports socket.
        polymarket_us_ws_url, polymarket_us_signer, polymarket_us_rest_url,
            polymarket_us_maintenance: the Polymarket US feed of a ``polymarket-us``
            monitor, as a shard's (``POLYMARKET_US_WS_URL``, ``POLYMARKET_US_KEY_ID`` +
            ``POLYMARKET_US_PRIVATE_KEY_PATH``, ``POLYMARKET_US_REST_URL``,
            ``POLYMARKET_US_MAINTENANCE``).
    """

    egress: EgressSettings | None
    ws_url: str = POLYMARKET_WS_URL
    clob_url: str = CLOB_URL
    audit_interval: float = 5.0
    proxy: str | None = attrs.field(default=None, repr=lambda p: "None" if p is None else "***")
    tokens_per_socket: int = 250
    max_tokens: int = 2000
    silence_timeout: float = 60.0
    instance: str = "monitor"
    heartbeat_interval: float = 1.0
    resync_interval: float = 30.0
    snapshot_timeout: float = 10.0
    reconnect: Backoff | None = None
    sports_ws_url: str | None = SPORTS_WS_URL
    sports_silence_timeout: float = 15.0
    venue: str = "polymarket"
    polymarket_us_ws_url: str = POLYMARKET_US_WS_URL
    polymarket_us_signer: PolymarketUsSigner | None = None
    polymarket_us_rest_url: str | None = None
    polymarket_us_maintenance: bool = True

    def __attrs_post_init__(self) -> None:
        if self.venue not in MONITOR_VENUES:
            known = ", ".join(MONITOR_VENUES)
            raise ConfigError(f"unknown monitor venue {self.venue[:30]!r} (known: {known})")
        if self.venue == "polymarket" and self.egress is None:
            raise ConfigError("the Polymarket monitor always checks its egress: set EGRESS_*")
        if self.venue == "polymarket-us":
            _check_polymarket_us(self.polymarket_us_ws_url, self.polymarket_us_signer)
        _positive("tokens_per_socket", "max_tokens", "silence_timeout", "heartbeat_interval")(self)
        _positive("sports_silence_timeout")(self)
        if self.sports_ws_url is not None and not self.sports_ws_url.startswith(
            ("ws://", "wss://")
        ):
            raise ConfigError(f"sports_ws_url must be ws(s)://, got {self.sports_ws_url!r:.60}")
        if not self.audit_interval >= 0:
            raise ConfigError(f"audit_interval must be >= 0, got {self.audit_interval!r}")
        if self.audit_interval > 0 and not self.clob_url.startswith(("http://", "https://")):
            raise ConfigError(f"clob_url must be an http(s):// URL, got {self.clob_url!r:.60}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> MonitorSettings:
        """The monitor's variables (``EGRESS_*`` too, unless ``egress`` is given or the
        venue is not Polymarket)."""
        r = _Reader(environ, dict(overrides))
        venue = r.get("venue", "MONITOR_VENUE", _monitor_venue, "polymarket")
        egress = r.overrides.pop("egress", None)
        if egress is None and venue == "polymarket":
            egress = EgressSettings.from_env(environ)
        if "polymarket_us_signer" in overrides:
            us_signer = r.overrides.pop("polymarket_us_signer")
        elif venue == "polymarket-us":
            us_signer = PolymarketUsSigner.from_env(environ)
        else:
            us_signer = None  # its key file is read only by a monitor of that venue
        return cls(
            venue=venue,
            polymarket_us_ws_url=r.text(
                "polymarket_us_ws_url", "POLYMARKET_US_WS_URL", POLYMARKET_US_WS_URL
            ),
            polymarket_us_signer=us_signer,
            polymarket_us_rest_url=r.get(
                "polymarket_us_rest_url", "POLYMARKET_US_REST_URL", str, None
            ),
            polymarket_us_maintenance=r.get(
                "polymarket_us_maintenance", "POLYMARKET_US_MAINTENANCE", parse_on_off, True
            ),
            egress=egress,
            ws_url=r.text("ws_url", "POLYMARKET_WS_URL", POLYMARKET_WS_URL),
            clob_url=r.text("clob_url", "POLYMARKET_CLOB_URL", CLOB_URL),
            audit_interval=r.number("audit_interval", "POLYMARKET_AUDIT_INTERVAL", 5.0),
            proxy=r.get("proxy", "POLYMARKET_PROXY_URL", str, None),
            tokens_per_socket=r.integer("tokens_per_socket", "POLYMARKET_TOKENS_PER_SOCKET", 250),
            max_tokens=r.integer("max_tokens", "MONITOR_MAX_TOKENS", 2000),
            silence_timeout=r.number("silence_timeout", "POLYMARKET_SILENCE_TIMEOUT", 60.0),
            instance=r.text("instance", "MONITOR_ID", socket.gethostname()),
            sports_ws_url=r.get(
                "sports_ws_url", "POLYMARKET_SPORTS_WS_URL", _url_or_off, _SPORTS_DEFAULT
            ),
            sports_silence_timeout=r.number(
                "sports_silence_timeout", "POLYMARKET_SPORTS_SILENCE_TIMEOUT", 15.0
            ),
            **r.overrides,
        )


@attrs.frozen
class PaperSettings:
    """The paper ledger of a shard (places no orders).

    Attributes:
        latency_ms: fill against the books this much later (``PAPER_LATENCY_MS``).
        max_contracts_per_pair: contracts per pair, ``None`` = no limit
            (``PAPER_MAX_CONTRACTS_PER_PAIR``).
        max_exposure: dollars in open positions (``PAPER_MAX_EXPOSURE``).
        daily_loss_stop: dollars lost in a UTC day (``PAPER_DAILY_LOSS_STOP``).
        log_interval: seconds between summary log lines, 0 = never (``PAPER_LOG_INTERVAL``).
        settlement_rules: overrides of the venues' settlement rules
            (``PAPER_SETTLEMENT_RULES``; :func:`arbees.settlement.parse_rules`).
    """

    latency_ms: int = 0
    max_contracts_per_pair: Fixed | None = None
    max_exposure: Fixed | None = None
    daily_loss_stop: Fixed | None = None
    log_interval: float = 60.0
    settlement_rules: str = ""

    def __attrs_post_init__(self) -> None:
        parse_rules(self.settlement_rules)  # a bad rule is a ConfigError here, not at start
        if self.latency_ms < 0:
            raise ConfigError(f"paper latency_ms must be >= 0, got {self.latency_ms}")
        if not self.log_interval >= 0:
            raise ConfigError(f"paper log_interval must be >= 0, got {self.log_interval!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> PaperSettings | None:
        """The ``PAPER_*`` variables; ``None`` unless ``PAPER`` (or ``enabled``) is on."""
        r = _Reader(environ, dict(overrides))
        if not r.get("enabled", "PAPER", lambda raw: env_bool(raw, False), False):
            return None
        return cls(
            latency_ms=r.integer("latency_ms", "PAPER_LATENCY_MS", 0),
            max_contracts_per_pair=r.get(
                "max_contracts_per_pair", "PAPER_MAX_CONTRACTS_PER_PAIR", parse_amount, None
            ),
            max_exposure=r.get("max_exposure", "PAPER_MAX_EXPOSURE", parse_amount, None),
            daily_loss_stop=r.get("daily_loss_stop", "PAPER_DAILY_LOSS_STOP", parse_amount, None),
            log_interval=r.number("log_interval", "PAPER_LOG_INTERVAL", 60.0),
            settlement_rules=r.text("settlement_rules", "PAPER_SETTLEMENT_RULES", ""),
            **r.overrides,
        )


@attrs.frozen
class ShardSettings:
    """A game shard: Kalshi direct, Polymarket from the bus or direct, Polymarket US
    direct, signals out.

    Attributes:
        shard_id: this shard's id (``SHARD_ID``; default: host name from the env).
        kalshi_ws_url: Kalshi WebSocket (``KALSHI_WS_URL``; ``KALSHI_ENV=demo``: demo host).
        kalshi_signer: signs the Kalshi connection (``KALSHI_API_KEY`` + key; real venue).
        polymarket_ws_url: ``None``: Polymarket from the monitor over the bus; a URL: read
            it directly (``POLYMARKET_VIA_REDIS=false`` with ``POLYMARKET_WS_URL``).
        polymarket_proxy: CONNECT proxy of the direct route (``POLYMARKET_PROXY_URL``).
        egress: egress check of the direct route (``EGRESS_*``).
        polymarket_egress_check: ``False`` is the explicit opt-out of the check
            (``POLYMARKET_EGRESS_CHECK=off``), logged loudly.
        min_edge: minimum profit per contract after fees, micro-dollars (``MIN_EDGE_CENTS``).
        max_size: cap on contracts per leg (micro-units), ``None``: the books' depth.
        max_price_age_ms: never use a price whose source has not proven liveness this
            recently (``MAX_PRICE_AGE_MS``); also sets the Kalshi keepalive.
        max_quote_age_s: never use a quote older than this (``MAX_QUOTE_AGE_S``).
        max_games: games run at most (``SHARD_MAX_GAMES``).
        kalshi_silence_timeout: reconnect Kalshi after this long silent
            (``KALSHI_SILENCE_TIMEOUT``).
        heartbeat_interval: seconds between health heartbeats.
        sweep_interval: seconds between sweeps for books gone stale.
        reconnect: reconnect backoff of the venue sockets (``None``: the feeds' own).
        paper: the paper ledger (``PAPER=true``), ``None``: off.
        live_max_quote_age_s: while a game is live (its venues' game state), never use
            one of its quotes older than this (``LIVE_MAX_QUOTE_AGE_S``; capped at
            ``max_quote_age_s``): its prices move with the score.
        venues: the venues the shard reads (``SHARD_VENUES``, comma-separated; default
            ``kalshi,polymarket``): ``kalshi`` always, then ``polymarket`` and/or
            ``polymarket-us``. Without ``polymarket`` the shard needs no monitor, VPN or
            egress check, and an assignment naming Polymarket is a counted refusal.
        polymarket_us_ws_url: Polymarket US markets WebSocket, read directly, never
            through the VPN route or an egress check (``POLYMARKET_US_WS_URL``).
        polymarket_us_signer: signs its upgrades (``POLYMARKET_US_KEY_ID`` + the Ed25519
            key file ``POLYMARKET_US_PRIVATE_KEY_PATH``, mode 600); required for any host
            but loopback (a fake venue). Shown redacted.
        polymarket_us_rest_url: Polymarket US REST root its books are audited against
            (``POLYMARKET_US_REST_URL``; ``None``: no audit).
        polymarket_us_maintenance: sit out the weekly maintenance window (Thursdays
            02:00-06:00 US-Eastern): books stale, one log line, no reconnect loop
            (``POLYMARKET_US_MAINTENANCE``, default on).
        polymarket_us_via_bus: read Polymarket US from its monitor over the bus
            (``POLYMARKET_US_VIA_REDIS=true``: the ``VenueQuote`` s of a
            ``MONITOR_VENUE=polymarket-us`` monitor, which holds the venue's sockets and key
            for every shard); default off: the shard's own signed sockets.
        lag_threshold_ms: while the shard's scheduler wakes more than this late, it opens no
            new signal and the books it reads wait for a fresh confirmation
            (``SHARD_LAG_THRESHOLD_MS``, default 250; 0: no lag guard).
        send_time_venues: the venues whose message timestamps are send times, by which
            the shard ages their quotes too (``SHARD_VENUE_SEND_TIMES``, comma-separated,
            default ``kalshi,polymarket``; ``off``: receive times only; Polymarket US is
            refused: its ``transact_time`` is the last trade, see
            :data:`arbees.services.shard_engine.SEND_TIME_VENUES`).
    """

    shard_id: str = "local"
    kalshi_ws_url: str = KALSHI_WS_URL
    kalshi_signer: KalshiSigner | None = None
    polymarket_ws_url: str | None = None
    polymarket_proxy: str | None = attrs.field(
        default=None, repr=lambda p: "None" if p is None else "***"
    )
    egress: EgressSettings | None = None
    polymarket_egress_check: bool = True
    min_edge: Fixed = 0
    max_size: Fixed | None = None
    max_price_age_ms: int = 2000
    max_quote_age_s: float = 600.0
    max_games: int = 1000
    kalshi_silence_timeout: float = 30.0
    heartbeat_interval: float = 1.0
    sweep_interval: float = 0.1
    reconnect: Backoff | None = None
    paper: PaperSettings | None = None
    live_max_quote_age_s: float = 30.0
    venues: tuple[str, ...] = ("kalshi", "polymarket")
    polymarket_us_ws_url: str = POLYMARKET_US_WS_URL
    polymarket_us_signer: PolymarketUsSigner | None = None
    polymarket_us_rest_url: str | None = None
    polymarket_us_maintenance: bool = True
    polymarket_us_via_bus: bool = False
    lag_threshold_ms: int = 250
    send_time_venues: tuple[str, ...] = SEND_TIME_VENUES

    def __attrs_post_init__(self) -> None:
        _check_venues(self.venues)
        if self.lag_threshold_ms < 0:
            raise ConfigError(f"lag_threshold_ms must be >= 0, got {self.lag_threshold_ms}")
        unknown = set(self.send_time_venues) - set(SEND_TIME_VENUES)
        if unknown:
            raise ConfigError(
                f"no send times known of {sorted(unknown)[0][:30]!r} "
                f"(SHARD_VENUE_SEND_TIMES takes {','.join(SEND_TIME_VENUES)})"
            )
        if "polymarket-us" in self.venues and not self.polymarket_us_via_bus:
            _check_polymarket_us(self.polymarket_us_ws_url, self.polymarket_us_signer)
        _positive(
            "max_price_age_ms",
            "max_quote_age_s",
            "live_max_quote_age_s",
            "max_games",
            "kalshi_silence_timeout",
            "heartbeat_interval",
            "sweep_interval",
        )(self)
        if self.min_edge < 0:
            raise ConfigError(f"min_edge must be >= 0, got {self.min_edge}")
        direct = self.polymarket_ws_url is not None and "polymarket" in self.venues
        if direct and self.polymarket_egress_check and self.egress is None:
            raise ConfigError(
                "direct Polymarket is reached only on a verified egress: set the egress "
                "check (EGRESS_CHECK_URL, egress_url) or opt out explicitly "
                "(POLYMARKET_EGRESS_CHECK=off, polymarket_egress_check=False)"
            )

    @property
    def keepalive_interval(self) -> float:
        """Seconds between Kalshi keepalives (:func:`kalshi_keepalive_interval`)."""
        return kalshi_keepalive_interval(self.max_price_age_ms)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> ShardSettings:
        """The shard's variables; ``via_bus`` overrides ``POLYMARKET_VIA_REDIS``."""
        r = _Reader(environ, dict(overrides))
        demo = r.kalshi_env() == "demo"
        default_venues: tuple[str, ...] = ("kalshi", "polymarket")
        venues = r.get("venues", "SHARD_VENUES", parse_venues, default_venues)
        via_bus = r.get("via_bus", "POLYMARKET_VIA_REDIS", parse_on_off, True)
        direct_url = r.text("polymarket_ws_url", "POLYMARKET_WS_URL", POLYMARKET_WS_URL)
        check = r.get("polymarket_egress_check", "POLYMARKET_EGRESS_CHECK", parse_on_off, True)
        egress = r.overrides.pop("egress", None)
        if egress is None and not via_bus and check and "polymarket" in venues:
            egress = EgressSettings.from_env(environ)
        if "kalshi_signer" in overrides:
            signer = r.overrides.pop("kalshi_signer")
        else:
            signer = KalshiSigner.from_env(environ)
        if "paper" in overrides:
            paper = r.overrides.pop("paper")
        else:
            paper = PaperSettings.from_env(environ)
        us_via_bus = r.get("polymarket_us_via_bus", "POLYMARKET_US_VIA_REDIS", parse_on_off, False)
        if "polymarket_us_signer" in overrides:
            us_signer = r.overrides.pop("polymarket_us_signer")
        elif "polymarket-us" in venues and not us_via_bus:
            us_signer = PolymarketUsSigner.from_env(environ)
        else:
            us_signer = None  # its key file is read only by a shard that reads the venue
        return cls(
            polymarket_us_via_bus=us_via_bus,
            venues=venues,
            polymarket_us_ws_url=r.text(
                "polymarket_us_ws_url", "POLYMARKET_US_WS_URL", POLYMARKET_US_WS_URL
            ),
            polymarket_us_signer=us_signer,
            polymarket_us_rest_url=r.get(
                "polymarket_us_rest_url", "POLYMARKET_US_REST_URL", str, None
            ),
            polymarket_us_maintenance=r.get(
                "polymarket_us_maintenance", "POLYMARKET_US_MAINTENANCE", parse_on_off, True
            ),
            shard_id=r.text("shard_id", "SHARD_ID", socket.gethostname()),
            kalshi_ws_url=r.text(
                "kalshi_ws_url", "KALSHI_WS_URL", KALSHI_DEMO_WS_URL if demo else KALSHI_WS_URL
            ),
            kalshi_signer=signer,
            polymarket_ws_url=None if via_bus else direct_url,
            polymarket_proxy=r.get("polymarket_proxy", "POLYMARKET_PROXY_URL", str, None),
            egress=egress,
            polymarket_egress_check=check,
            min_edge=r.get("min_edge", "MIN_EDGE_CENTS", parse_cents, 0),
            max_price_age_ms=r.integer("max_price_age_ms", "MAX_PRICE_AGE_MS", 2000),
            max_quote_age_s=r.number("max_quote_age_s", "MAX_QUOTE_AGE_S", 600.0),
            max_games=r.integer("max_games", "SHARD_MAX_GAMES", 1000),
            kalshi_silence_timeout=r.number(
                "kalshi_silence_timeout", "KALSHI_SILENCE_TIMEOUT", 30.0
            ),
            paper=paper,
            live_max_quote_age_s=r.number("live_max_quote_age_s", "LIVE_MAX_QUOTE_AGE_S", 30.0),
            lag_threshold_ms=r.integer("lag_threshold_ms", "SHARD_LAG_THRESHOLD_MS", 250),
            send_time_venues=r.get(
                "send_time_venues", "SHARD_VENUE_SEND_TIMES", _venue_list, SEND_TIME_VENUES
            ),
            **r.overrides,
        )


def _monitor_venue(text: str) -> str:
    venue = text.strip().lower()
    if venue not in MONITOR_VENUES:
        raise ValueError(f"expected one of {', '.join(MONITOR_VENUES)}, got {text[:30]!r}")
    return venue


def _venue_list(text: str) -> tuple[str, ...]:
    """A comma-separated list of venue ids; ``off``: none."""
    if text.strip().lower() == "off":
        return ()
    return tuple(v.strip().lower() for v in text.split(",") if v.strip())


def parse_venues(text: str) -> tuple[str, ...]:
    """``SHARD_VENUES``: comma-separated venue ids, e.g. ``kalshi,polymarket-us``."""
    venues = tuple(v.strip().lower() for v in text.split(",") if v.strip())
    _check_venues(venues)
    return venues


def _check_venues(venues: tuple[str, ...], what: str = "shard") -> None:
    if "kalshi" not in venues:
        raise ConfigError(f"a {what} reads kalshi and more, got {','.join(venues)[:80]!r}")
    unknown = [v for v in venues if v not in SHARD_VENUES]
    if unknown:
        known = ", ".join(SHARD_VENUES)
        raise ConfigError(f"unknown {what} venue {unknown[0][:30]!r} (known: {known})")
    if len(set(venues)) != len(venues) or len(venues) < 2:
        raise ConfigError(
            f"{what} venues must be kalshi and at least one other, each once: "
            f"{','.join(venues)[:80]!r}"
        )


def _discovery_venues(text: str) -> tuple[str, ...]:
    """``DISCOVERY_VENUES``: comma-separated venue ids, e.g. ``kalshi,polymarket-us``."""
    venues = tuple(v.strip().lower() for v in text.split(",") if v.strip())
    _check_venues(venues, "discovery")
    return venues


def _check_polymarket_us(url: str, signer: PolymarketUsSigner | None) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ConfigError(f"polymarket_us_ws_url must be ws(s)://, got {url!r:.60}")
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if signer is None and host not in _LOOPBACK_HOSTS:
        raise ConfigError(
            "Polymarket US market data needs a verified account's API key: set "
            "POLYMARKET_US_KEY_ID and POLYMARKET_US_PRIVATE_KEY_PATH (or drop polymarket-us "
            "from SHARD_VENUES)"
        )


_SPORTS_DEFAULT: str | None = SPORTS_WS_URL
"""The deployed monitor's sports socket unless ``POLYMARKET_SPORTS_WS_URL=off``."""


def _url_or_off(raw: str) -> str | None:
    """A WebSocket URL, or ``off`` (also ``false``, ``no``, ``0``) for none."""
    if raw.lower() in ("off", "false", "no", "0", "none"):
        return None
    if not raw.startswith(("ws://", "wss://")):
        raise ValueError(f"expected a ws(s):// URL or off, got {raw!r:.60}")
    return raw


def parse_on_off(raw: str) -> bool:
    """A boolean variable's value (``true/false/1/0/yes/no/on/off``)."""
    return env_bool(raw, True)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _live_interval(_instance: object, _attribute: object, value: float | None) -> None:
    if value is not None and not value >= 1:
        raise ConfigError(f"kalshi_live_interval must be >= 1 s (or off), got {value!r}")


@attrs.frozen
class OrchestratorSettings:
    """The orchestrator: Kalshi REST and Gamma discovery, assignment over the bus.

    Attributes:
        kalshi_rest_url: Kalshi REST root (``KALSHI_REST_URL``; ``KALSHI_ENV=demo``: demo).
        kalshi_signer: signs Kalshi REST requests (optional for discovery).
        gamma_url: Polymarket Gamma root (``POLYMARKET_GAMMA_URL``).
        series: Kalshi series (``KALSHI_SERIES``, comma-separated); empty (the default, or
            ``sports``): every game / total / spread series of the Sports category.
        leagues: league keys to watch (``LEAGUES``, e.g. ``NFL,EPL``; empty: every league
            both venues list).
        exclude_leagues: league keys left out (``EXCLUDE_LEAGUES``).
        market_types: ``moneyline`` / ``total`` / ``spread`` (``MARKET_TYPES``; empty: all).
        teams_cache: file caching Gamma's team catalogue (``TEAM_CATALOGUE_CACHE``).
        polymarket_proxy: CONNECT proxy of the Gamma route (``POLYMARKET_PROXY_URL``).
        egress: egress check of the Gamma route (``EGRESS_*``).
        polymarket_egress_check: ``False``: the explicit opt-out (``POLYMARKET_EGRESS_CHECK``).
        discovery_deadline: seconds one discovery round may take (``DISCOVERY_DEADLINE``).
        config: the service's timings (``DISCOVERY_INTERVAL``, ``SHARD_TIMEOUT``,
            ``REPUBLISH_INTERVAL``, ``SETTLE_DELAY``, ``START_WINDOW_MINUTES``,
            ``ORCHESTRATOR_ID``).
        polymarket_us_rest_url: Polymarket US REST gateway (``POLYMARKET_US_REST_URL``,
            e.g. ``https://gateway.polymarket.us``), reached directly; unset: no Polymarket
            US discovery (its games are not matched).
        kalshi_live_interval: seconds between two polls of Kalshi's live game data for the
            running games (``KALSHI_LIVE_INTERVAL``, default 10, at least 1: one batch
            request per 100 games, on the discovery client's rate limit); ``None``
            (``KALSHI_LIVE_DATA=off``): not polled.
        discovery_venues: the venues discovery asks (``DISCOVERY_VENUES``, comma-separated;
            default every venue: ``kalshi,polymarket,polymarket-us``). Without
            ``polymarket`` (the US-only deployment: ``kalshi,polymarket-us``) no Gamma
            client, no Polymarket route, no egress check is built and no ``EGRESS_*`` is
            read; the teams are then the built-in tables plus Polymarket US's own names
            and codes (:func:`arbees.matching.venue_listings.polymarket_us_team_rows`).
    """

    kalshi_rest_url: str = KALSHI_REST_URL
    kalshi_signer: KalshiSigner | None = None
    gamma_url: str = GAMMA_URL
    series: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    leagues: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    exclude_leagues: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    market_types: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    teams_cache: Path | None = None
    polymarket_proxy: str | None = attrs.field(
        default=None, repr=lambda p: "None" if p is None else "***"
    )
    egress: EgressSettings | None = None
    polymarket_egress_check: bool = True
    discovery_deadline: float = DEFAULT_DISCOVERY_DEADLINE
    config: OrchestratorConfig = attrs.Factory(OrchestratorConfig)
    polymarket_us_rest_url: str | None = None
    kalshi_live_interval: float | None = attrs.field(default=10.0, validator=_live_interval)
    discovery_venues: tuple[str, ...] = SHARD_VENUES

    def __attrs_post_init__(self) -> None:
        _positive("discovery_deadline")(self)
        _check_venues(self.discovery_venues, "discovery")
        if not self.gamma and not self.polymarket_us_rest_url:
            raise ConfigError(
                "discovery without Gamma (DISCOVERY_VENUES=kalshi,polymarket-us) needs "
                "Polymarket US's REST gateway (POLYMARKET_US_REST_URL)"
            )
        known = {lg.key for lg in LEAGUE_TABLE}
        for name in ("leagues", "exclude_leagues"):
            unknown = sorted(set(getattr(self, name)) - known)
            if unknown:
                raise ConfigError(f"{name}: unknown league(s) {unknown}; known: {sorted(known)}")
        bad_types = sorted(set(self.market_types) - {"moneyline", "total", "spread"})
        if bad_types:
            raise ConfigError(f"market_types: unknown {bad_types} (moneyline, total, spread)")
        if self.gamma and self.polymarket_egress_check and self.egress is None:
            raise ConfigError(
                "Gamma (Polymarket) is reached only on a verified egress: set the egress "
                "check (EGRESS_CHECK_URL, egress_url) or opt out explicitly "
                "(POLYMARKET_EGRESS_CHECK=off, polymarket_egress_check=False)"
            )

    @property
    def gamma(self) -> bool:
        """International Polymarket (Gamma) is discovered."""
        return "polymarket" in self.discovery_venues

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> OrchestratorSettings:
        """The orchestrator's variables; the timings may be overridden by their names in
        :class:`OrchestratorConfig` (``start_window_minutes`` for the start window)."""
        r = _Reader(environ, dict(overrides))
        demo = r.kalshi_env() == "demo"
        every: tuple[str, ...] = SHARD_VENUES
        venues = r.get("discovery_venues", "DISCOVERY_VENUES", _discovery_venues, every)
        check = r.get("polymarket_egress_check", "POLYMARKET_EGRESS_CHECK", parse_on_off, True)
        egress = r.overrides.pop("egress", None)
        if egress is None and check and "polymarket" in venues:
            egress = EgressSettings.from_env(environ)
        if "kalshi_signer" in overrides:
            signer = r.overrides.pop("kalshi_signer")
        else:
            signer = KalshiSigner.from_env(environ)
        timings = {
            name: r.number(name, var, default)
            for name, var, default in (
                ("discovery_interval", "DISCOVERY_INTERVAL", 300.0),
                ("shard_timeout", "SHARD_TIMEOUT", 30.0),
                ("republish_interval", "REPUBLISH_INTERVAL", 5.0),
                ("settle_delay", "SETTLE_DELAY", 3.0),
                ("start_window_minutes", "START_WINDOW_MINUTES", 180.0),
            )
        }
        for name in ("discovery_interval", "shard_timeout", "republish_interval"):
            if not timings[name] > 0:
                raise ConfigError(f"{name} must be > 0, got {timings[name]!r}")
        for name in ("settle_delay", "start_window_minutes"):
            if not timings[name] >= 0:
                raise ConfigError(f"{name} must be >= 0, got {timings[name]!r}")
        config = OrchestratorConfig(
            discovery_interval=timings["discovery_interval"],
            shard_timeout=timings["shard_timeout"],
            republish_interval=timings["republish_interval"],
            check_interval=min(1.0, timings["shard_timeout"] / 4),
            settle_delay=timings["settle_delay"],
            start_window=timedelta(minutes=timings["start_window_minutes"]),
            instance=r.text("instance", "ORCHESTRATOR_ID", default_instance()),
        )
        none: tuple[str, ...] = ()
        series: tuple[str, ...] | str = r.get("series", "KALSHI_SERIES", _series, none)
        narrowing: dict[str, tuple[str, ...]] = {
            name: r.get(name, var, _keys, none)
            for name, var in (
                ("leagues", "LEAGUES"),
                ("exclude_leagues", "EXCLUDE_LEAGUES"),
                ("market_types", "MARKET_TYPES"),
            )
        }
        narrowing["market_types"] = tuple(t.lower() for t in narrowing["market_types"])
        cache = r.get("teams_cache", "TEAM_CATALOGUE_CACHE", Path, None)
        live_on = r.get("kalshi_live_data", "KALSHI_LIVE_DATA", parse_on_off, True)
        live_interval = r.number("kalshi_live_interval", "KALSHI_LIVE_INTERVAL", 10.0)
        return cls(
            kalshi_rest_url=r.text(
                "kalshi_rest_url",
                "KALSHI_REST_URL",
                KALSHI_DEMO_REST_URL if demo else KALSHI_REST_URL,
            ),
            kalshi_signer=signer,
            gamma_url=r.text("gamma_url", "POLYMARKET_GAMMA_URL", GAMMA_URL),
            series=_series(series) if isinstance(series, str) else series,
            teams_cache=cache,
            **narrowing,
            polymarket_proxy=r.get("polymarket_proxy", "POLYMARKET_PROXY_URL", str, None),
            egress=egress,
            polymarket_egress_check=check,
            discovery_deadline=r.number(
                "discovery_deadline", "DISCOVERY_DEADLINE", DEFAULT_DISCOVERY_DEADLINE
            ),
            config=config,
            polymarket_us_rest_url=r.get(
                "polymarket_us_rest_url", "POLYMARKET_US_REST_URL", str, None
            ),
            kalshi_live_interval=live_interval if live_on else None,
            discovery_venues=venues,
            **r.overrides,
        )


def _series(text: str) -> tuple[str, ...]:
    """``KXNBAGAME,KXNHLGAME`` -> the series; ``sports`` -> ``()`` (discover the category)."""
    series = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    return () if series == ("SPORTS",) else series


def _keys(text: str) -> tuple[str, ...]:
    return tuple(s.strip().upper() for s in text.split(",") if s.strip())
