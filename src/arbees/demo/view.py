"""The live terminal view: games, both venues' prices, edge, open opportunities, latency.

On a TTY the view redraws in place with ANSI escapes (cursor home + clear); otherwise it
prints one plain status line per refresh, so logs and pipes stay readable.
"""

from __future__ import annotations

from typing import TextIO

from arbees.demo.system import DemoSystem
from arbees.money import ONE, Fixed
from arbees.sim.books import GameBooks, pair_asks
from arbees.sim.score import percentiles

__all__ = ["render_lines", "render_status", "show"]

_HOME_CLEAR = "\x1b[H\x1b[2J"


def _c(price: Fixed | None) -> str:
    return "  -  " if price is None else f"{price / 10_000:5.1f}"


def _edge(books: GameBooks) -> float:
    """Best raw edge in cents over both teams' cross-venue pairs (negative: no arb)."""
    best = -100.0
    for team in (0, 1):
        asks = pair_asks(books, team)
        for yes, no in ((asks.kalshi_yes, asks.poly_no), (asks.poly_yes, asks.kalshi_no)):
            if yes and no:
                best = max(best, (ONE - yes[0].price - no[0].price) / 10_000)
    return best


def render_lines(system: DemoSystem, elapsed_s: float, max_games: int = 16) -> list[str]:
    """The full-screen view."""
    open_by_game: dict[str, int] = {}
    for shard in system.shards:
        for signal_id in shard.engine.open_signals():
            game_id = signal_id.split(":")[1]
            open_by_game[game_id] = open_by_game.get(game_id, 0) + 1
    lat = system.hop_us[-2000:]
    hop = percentiles(lat)
    lines = [
        f"arbees demo  t={elapsed_s:5.1f}s  updates={system.updates}  "
        f"signals={len(system.signals)}  bus hop p50={hop['p50']:.0f}us p99={hop['p99']:.0f}us",
        "",
        f"{'game':<28} {'kalshi YES bid/ask':>18} {'poly A bid/ask':>16} {'edge c':>7} open",
    ]
    for game, books in list(zip(system.plan.games, system.player.books, strict=True))[:max_games]:
        k = books.kalshi_a
        kb = k.yes_bids[0].price if k.yes_bids else None
        ka = k.yes_asks[0].price if k.yes_asks else None
        p = books.poly_a
        pb = p.bids[0].price if p.bids else None
        pa = p.asks[0].price if p.asks else None
        label = f"{game.league} {game.away.code}@{game.home.code} {game.day:%m-%d}"
        lines.append(
            f"{label:<28} {_c(kb):>8} / {_c(ka):<7} {_c(pb):>7} / {_c(pa):<6} "
            f"{_edge(books):7.1f} {open_by_game.get(game.game_id, 0):>4}"
        )
    if len(system.plan.games) > max_games:
        lines.append(f"... and {len(system.plan.games) - max_games} more games")
    return lines


def render_status(system: DemoSystem, elapsed_s: float) -> str:
    """One plain line (non-TTY output)."""
    opened = sum(1 for s in system.signals if s.event == "open")
    open_now = sum(len(s.engine.open_signals()) for s in system.shards)
    return (
        f"t={elapsed_s:5.1f}s updates={system.updates} signals={len(system.signals)} "
        f"opened={opened} open_now={open_now}"
    )


def show(system: DemoSystem, elapsed_s: float, out: TextIO, tty: bool) -> None:
    """Draw one refresh."""
    if tty:
        out.write(_HOME_CLEAR + "\n".join(render_lines(system, elapsed_s)) + "\n")
    else:
        out.write(render_status(system, elapsed_s) + "\n")
    out.flush()
