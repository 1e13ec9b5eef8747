"""A custom bot: your own filter on arbees' signals, a paper position book, a running P&L.

It subscribes to ``arbees:signals`` (every shard's), keeps the opportunities that pass YOUR
filter (a minimum total profit after fees, a set of sports), "buys" both legs of each on
paper at the signal's prices, and prints one line per decision with the running P&L.
An arbitrage pays $1 per contract whichever side wins, so a position's profit is locked
when it is opened: the P&L is the sum of the locked profits (exact, in micro-dollars).
It places no orders anywhere.

    python examples/custom_bot.py --redis-url redis://localhost:6379/0 \\
        --min-profit 0.50 --sports NBA,NHL --duration 600

Output (one line per event, then a summary; lines shortened here)::

    listening on redis://localhost:6379/0 (min profit $0.5, sports NBA,NHL)
    BUY   KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo size 100 cost $92.93
          profit $+7.07 | positions 1, P&L $+7.07
    SKIP  KXNHLGAME-26NOV26BOSNYR NHL:BOS PolyOnly (profit $0.2 < $0.5)
    CLOSE KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo (opportunity gone; ...)
    summary: 3 signals seen, 1 skipped by the filter, 1 positions, cost $92.93, P&L $+7.07

Copy this file and change :class:`SignalFilter` / :class:`PaperBook` to taste.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from functools import partial

import attrs
import trio

import arbees
from arbees.config import redact_url, url_with_password_file

__all__ = ["PaperBook", "Position", "SignalFilter", "build_parser", "main", "money", "run_bot"]

Printer = Callable[[str], None]


def money(micro: int, *, sign: bool = False) -> str:
    """Micro-dollars as ``$1.25`` (``$+1.25`` with ``sign``), exact."""
    text = arbees.format_fixed(micro)
    if sign and micro >= 0:
        text = "+" + text
    return f"${text}"


@attrs.frozen
class SignalFilter:
    """Which opportunities this bot takes.

    Attributes:
        min_profit: minimum total profit after fees, in micro-dollars.
        sports: leagues to keep (upper case, e.g. ``{"NBA"}``); empty keeps every sport.
    """

    min_profit: int = 0
    sports: frozenset[str] = frozenset()

    def reason_to_skip(self, signal: arbees.ArbSignal) -> str | None:
        """Why the signal is refused, or ``None`` when it passes."""
        sport = signal.team.split(":", 1)[0].upper()
        if self.sports and sport not in self.sports:
            return f"sport {sport} not in {','.join(sorted(self.sports))}"
        if signal.profit < self.min_profit:
            return f"profit {money(signal.profit)} < {money(self.min_profit)}"
        return None


@attrs.frozen
class Position:
    """One paper position: both legs of an opportunity, bought at its open.

    Attributes:
        signal: the ``open`` signal it was entered on.
        open: False once the opportunity closed (the position is held to settlement).
    """

    signal: arbees.ArbSignal
    open: bool = True


@attrs.define
class PaperBook:
    """Paper positions keyed by signal id, with the locked P&L.

    Attributes:
        positions: every position taken, by signal id.
        seen: signals received.
        skipped: ``open`` signals the filter refused.
    """

    filter: SignalFilter
    positions: dict[str, Position] = attrs.Factory(dict)
    seen: int = 0
    skipped: int = 0

    @property
    def cost(self) -> int:
        """Money put into positions, fees included (micro-dollars)."""
        return sum(p.signal.cost for p in self.positions.values())

    @property
    def pnl(self) -> int:
        """Locked profit of all positions (micro-dollars)."""
        return sum(p.signal.profit for p in self.positions.values())

    def on_signal(self, signal: arbees.ArbSignal) -> str | None:
        """Apply one signal; returns the line to print (``None`` when nothing happened)."""
        self.seen += 1
        label = f"{signal.game_id} {signal.team} {signal.combo}"
        if signal.event == "open":
            if signal.signal_id in self.positions:
                return None  # the bus may repeat; a position is taken once
            reason = self.filter.reason_to_skip(signal)
            if reason is not None:
                self.skipped += 1
                return f"SKIP  {label} ({reason})"
            self.positions[signal.signal_id] = Position(signal)
            return (
                f"BUY   {label} size {arbees.format_fixed(signal.size)} "
                f"cost {money(signal.cost)} profit {money(signal.profit, sign=True)} | "
                f"positions {len(self.positions)}, P&L {money(self.pnl, sign=True)}"
            )
        position = self.positions.get(signal.signal_id)
        if position is None or not position.open:
            return None
        if signal.event == "close":
            self.positions[signal.signal_id] = attrs.evolve(position, open=False)
            return f"CLOSE {label} (opportunity gone; position held to settlement)"
        return None  # "update": the paper fill happened at the open's prices

    def summary(self) -> str:
        return (
            f"summary: {self.seen} signals seen, {self.skipped} skipped by the filter, "
            f"{len(self.positions)} positions, cost {money(self.cost)}, "
            f"P&L {money(self.pnl, sign=True)}"
        )


async def run_bot(
    bus: arbees.Bus,
    book: PaperBook,
    *,
    out: Printer = print,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Feed every signal into ``book`` and print what happens; ``started`` once subscribed."""
    async with arbees.signals(bus) as stream:
        task_status.started()
        async for signal in stream:
            line = book.on_signal(signal)
            if line is not None:
                out(line)


def parse_sports(text: str) -> frozenset[str]:
    return frozenset(s.strip().upper() for s in text.split(",") if s.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Paper-trade arbees' arbitrage signals with your own filter (no orders)."
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        help="the stack's bus, e.g. redis://bot@localhost:6379/0 with the password in the "
        "file REDIS_PASSWORD_FILE names (env REDIS_URL; default redis://localhost:6379/0)",
    )
    parser.add_argument(
        "--min-profit",
        default="0",
        help="minimum total profit after fees, in dollars (exact decimal, e.g. 0.50)",
    )
    parser.add_argument(
        "--sports", default="", help="comma-separated leagues to keep, e.g. NBA,NHL (default all)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (default 0: run until Ctrl-C)",
    )
    return parser


def filter_from_args(args: argparse.Namespace) -> SignalFilter:
    """The filter from the parsed options; raises ``arbees.ConfigError`` on a bad value."""
    try:
        min_profit = arbees.parse_fixed(args.min_profit, field="min_profit")
    except arbees.DecodeError as exc:
        raise arbees.ConfigError(f"--min-profit: {exc}") from None
    if min_profit < 0:
        raise arbees.ConfigError("--min-profit must be >= 0")
    return SignalFilter(min_profit=min_profit, sports=parse_sports(args.sports))


async def _main(args: argparse.Namespace, book: PaperBook, out: Printer) -> None:
    sports = ",".join(sorted(book.filter.sports)) or "all"
    with trio.move_on_after(args.duration if args.duration > 0 else math.inf):
        async with arbees.open_bus(args.redis_url) as bus, trio.open_nursery() as nursery:
            await nursery.start(partial(run_bot, bus, book, out=out))
            out(
                f"listening on {redact_url(args.redis_url)} "
                f"(min profit {money(book.filter.min_profit)}, sports {sports})"
            )


def main(argv: Sequence[str] | None = None, *, out: Printer = print) -> int:
    """Run the bot; exit code 0 on a clean stop (duration or Ctrl-C), 2 on bad options,
    1 when the bus fails (the error is printed, without secrets)."""
    args = build_parser().parse_args(argv)
    try:
        book = PaperBook(filter_from_args(args))
        # The password comes from a file (a Docker secret), never from a variable.
        args.redis_url = url_with_password_file(
            args.redis_url, os.environ.get("REDIS_PASSWORD_FILE")
        )
    except arbees.ConfigError as exc:
        print(f"custom_bot: {exc}", file=sys.stderr)
        return 2
    try:
        trio.run(_main, args, book, out)
    except KeyboardInterrupt:
        pass
    except (arbees.ArbeesError, ExceptionGroup) as exc:
        print(f"custom_bot: stopped: {exc!r}", file=sys.stderr)
        return 1
    finally:
        out(book.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(out=lambda line: print(line, flush=True)))
