"""Render a :class:`MatchReport` for people (a text table) and for programs (JSON).

``arbees match`` exists so a user can audit the matcher on real venue data before trusting
it; the text form therefore shows every match with both instruments per team and every
rejection with its reason and detail, and ends with counts per reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbees.matching.events import EventReport, MatchedEvent
from arbees.matching.model import MatchedGame, MatchedTeam, MatchReport, Rejection

__all__ = ["events_to_json", "events_to_text", "report_to_json", "report_to_text"]


def _team_json(role: str, team: MatchedTeam) -> dict[str, str]:
    return {
        "role": role,
        "team_id": team.team_id,
        "name": team.name,
        "kalshi_ticker": team.kalshi_ticker,
        "polymarket_token_id": team.polymarket_token_id,
        "polymarket_outcome": team.polymarket_outcome,
    }


def _match_json(game: MatchedGame) -> dict[str, Any]:
    fees = game.polymarket_fees
    return {
        "league": game.league,
        "eastern_date": game.eastern_date.isoformat(),
        "start_time": None if game.start_time is None else game.start_time.isoformat(),
        "kalshi_event_ticker": game.kalshi_event_ticker,
        "polymarket_condition_id": game.polymarket_condition_id,
        "polymarket_event_slug": game.polymarket_event_slug,
        "polymarket_question": game.polymarket_question,
        "teams": [_team_json("away", game.away), _team_json("home", game.home)],
        "polymarket_fees": {
            "feesEnabled": fees.fees_enabled,
            "feeType": fees.fee_type,
            "feeSchedule": None
            if fees.rate is None
            else {
                "rate": _exact(fees.rate),
                "exponent": _exact(fees.exponent),
                "takerOnly": fees.taker_only,
                "rebateRate": _exact(fees.rebate_rate),
            },
        },
        "notes": list(game.notes),
    }


def _exact(value: Decimal | None) -> str | None:
    """An exact decimal as JSON text (a float would round it)."""
    return None if value is None else format(value, "f")


def _rejection_json(rej: Rejection) -> dict[str, str]:
    return {
        "venue": rej.venue.value,
        "id": rej.id,
        "reason": rej.reason_code.value,
        "detail": rej.detail,
    }


def report_to_json(report: MatchReport) -> dict[str, Any]:
    """A JSON-ready dict: ``matches``, ``rejections`` and a ``summary`` with counts."""
    return {
        "matches": [_match_json(m) for m in report.matches],
        "rejections": [_rejection_json(r) for r in report.rejections],
        "summary": {
            "matches": len(report.matches),
            "rejections": len(report.rejections),
            "rejections_by_reason": report.rejection_counts(),
        },
    }


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    ]


def report_to_text(report: MatchReport) -> str:
    """A readable multi-line report (no trailing newline)."""
    lines = [f"MATCHES ({len(report.matches)})"]
    if report.matches:
        rows: list[tuple[str, ...]] = [
            (
                "DATE (ET)",
                "LEAGUE",
                "START (UTC)",
                "KALSHI EVENT",
                "POLYMARKET (slug / condition id)",
            )
        ]
        for game in report.matches:
            start = "-" if game.start_time is None else game.start_time.strftime("%Y-%m-%d %H:%M")
            rows.append(
                (
                    game.eastern_date.isoformat(),
                    game.league,
                    start,
                    game.kalshi_event_ticker,
                    f"{game.polymarket_event_slug} / {game.polymarket_condition_id}",
                )
            )
            for role, team in (("away", game.away), ("home", game.home)):
                rows.append(
                    (
                        "",
                        f"  {role}",
                        team.team_id,
                        team.kalshi_ticker,
                        f"{team.polymarket_outcome!r} token {team.polymarket_token_id}",
                    )
                )
        lines.extend(_table(rows))
    lines.append("")
    lines.append(f"REJECTIONS ({len(report.rejections)})")
    if report.rejections:
        rrows: list[tuple[str, ...]] = [("VENUE", "ID", "REASON", "DETAIL")]
        rrows.extend(
            (r.venue.value, r.id, r.reason_code.value, r.detail) for r in report.rejections
        )
        lines.extend(_table(rrows))
    lines.append("")
    counts = (
        ", ".join(f"{reason}: {n}" for reason, n in report.rejection_counts().items()) or "none"
    )
    lines.append(
        f"SUMMARY: {len(report.matches)} matched, {len(report.rejections)} rejected ({counts})"
    )
    notes = sorted({note for game in report.matches for note in game.notes})
    lines.extend(f"note: {note}" for note in notes)
    return "\n".join(lines)


def _event_json(event: MatchedEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "league": event.league,
        "market_type": event.market_type.value,
        "eastern_date": event.eastern_date.isoformat(),
        "start_time": None if event.start_time is None else event.start_time.isoformat(),
        "teams": list(event.teams),
        "line": None if event.line is None else str(event.line),
        "outcomes": list(event.outcomes),
        "venue_events": [{"venue": v, "event": e} for v, e in event.venue_events],
        "contracts": [
            {
                "venue": leg.venue,
                "instrument": leg.instrument,
                "market": leg.market,
                "outcome": leg.outcome,
                "side": leg.side,
            }
            for leg in event.legs
        ],
        "evidence": list(event.evidence),
        "notes": list(event.notes),
    }


def events_to_json(report: EventReport) -> dict[str, Any]:
    """The event report as JSON-ready data: counts per league and market type, every match
    with its contracts and evidence, every unmatched item with its reason."""
    return {
        "summary": [
            {"league": league, "market_type": kind, **counts}
            for (league, kind), counts in report.counts().items()
        ],
        "matches": [_event_json(m) for m in report.matches],
        "unmatched": [
            {
                "venue": u.venue,
                "id": u.id,
                "league": u.league,
                "market_type": u.market_type,
                "reason": u.reason.value,
                "detail": u.detail,
            }
            for u in report.unmatched
        ],
    }


def events_to_text(report: EventReport) -> str:
    """The event report as a text table (counts first, then matches, then the rest)."""
    lines = ["league      type        matched  unmatched  ambiguous"]
    for (league, kind), c in report.counts().items():
        lines.append(
            f"{league or '?':<11} {kind or '?':<11} {c['matched']:>7}  {c['unmatched']:>9}  "
            f"{c['ambiguous']:>9}"
        )
    lines.append("")
    lines.append(f"MATCHED EVENTS ({len(report.matches)})")
    for m in report.matches:
        start = "start unknown" if m.start_time is None else m.start_time.isoformat()
        lines.append(f"  {m.event_id}  [{' / '.join(m.outcomes)}]  {start}")
        for venue, event in m.venue_events:
            lines.append(f"    {venue}: {event}")
        yes = {(leg.venue, leg.outcome) for leg in m.legs if leg.side == "yes"}
        for leg in m.legs:
            if leg.side == "yes":
                lines.append(f"      {leg.outcome:<14} {leg.venue}: {leg.instrument}")
        for leg in m.legs:
            # a binary event's venue with one contract: its NO pays on the other outcome
            other = [o for o in m.outcomes if o != leg.outcome]
            if leg.side == "no" and len(other) == 1 and (leg.venue, other[0]) not in yes:
                lines.append(f"      {other[0]:<14} {leg.venue}: {leg.instrument} (NO)")
        for line in m.evidence:
            lines.append(f"    evidence: {line}")
    lines.append("")
    lines.append(f"UNMATCHED ({len(report.unmatched)})")
    for u in report.unmatched:
        where = f"{u.league or '?'}/{u.market_type or '?'}"
        lines.append(f"  {u.venue:<13} {where:<18} {u.reason.value:<16} {u.id}: {u.detail}")
    return "\n".join(lines)
