"""Short usage examples of the public names whose own docstring has none.

``import arbees`` re-exports classes and functions that live in the library's submodules;
many of those docstrings describe the object but show no use. Rather than rewrite other
modules' docstrings, the examples live here, keyed by public name: the API reference
(``docs/gen_api.py``) prints them under the docstring, and ``tests/test_public_api.py``
requires every public name to have an example, either in its docstring or here.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EXAMPLES"]

EXAMPLES: Final[dict[str, str]] = {
    "ArbSignal": """\
async for signal in arbees.signals(bus):
    if signal.event == "open":
        print(signal.game_id, signal.team, signal.combo,
              arbees.format_fixed(signal.size), arbees.format_fixed(signal.profit))""",
    "SignalLeg": """\
for leg in signal.legs:
    print(leg.venue, leg.instrument, leg.side, arbees.format_fixed(leg.worst_price))""",
    "PolymarketPriceUpdate": """\
async for update in arbees.price_updates(bus, tokens={token}):
    if not update.stale and update.yes_ask is not None:
        print(update.token_id, arbees.format_fixed(update.yes_ask))""",
    "SystemAlert": """\
alert = arbees.SystemAlert(type="MY_BOT_STOPPED", service="my_bot", error="bye",
                           timestamp=int(time.time() * 1000), severity="info")
await bus.publish(arbees.Channel.SYSTEM_ALERTS, alert)""",
    "MarketAssignment": """\
stored = await bus.hgetall(arbees.messages.GAME_ASSIGNMENTS_HASH)
for game_id, assignment in stored.items():
    print(game_id, assignment.shard_id, [t.team for t in assignment.teams])""",
    "TeamLeg": """\
for leg in assignment.teams:
    print(leg.team, leg.kalshi_ticker, leg.poly_token)""",
    "ServiceStatus": """\
async for status in arbees.typed_stream(bus, arbees.ServiceStatus, arbees.Channel.SERVICE_STATUS):
    print(status.service, status.instance, "ok" if status.healthy else status.reason)""",
    "ShardHeartbeat": """\
async for hb in arbees.typed_stream(bus, arbees.ShardHeartbeat, arbees.Channel.SHARD_HEARTBEATS):
    print(hb.shard_id, len(hb.games), hb.healthy)""",
    "Channel": """\
async with bus.subscribe(arbees.Channel.SIGNALS, arbees.Channel.SYSTEM_ALERTS) as sub:
    envelope = await sub.receive()""",
    "Bus": """\
async def publish_alert(bus: arbees.Bus, alert: arbees.SystemAlert) -> None:
    await bus.publish(arbees.Channel.SYSTEM_ALERTS, alert)""",
    "Envelope": """\
async with bus.subscribe(arbees.Channel.SIGNALS) as sub:
    async for envelope in sub:
        print(envelope.channel, envelope.received_ns, envelope.message)""",
    "Subscription": """\
async with bus.subscribe(arbees.Channel.SIGNALS) as sub:
    envelope = await sub.receive()
    print(sub.dropped, sub.decode_errors)""",
    "open_bus": """\
async with arbees.open_bus("redis://:PASSWORD@localhost:6379/0") as bus:
    ...
async with arbees.open_bus("memory://") as bus:   # one process, no Redis
    ...""",
    "ArbeesError": """\
try:
    async with arbees.open_bus(url) as bus:
        ...
except arbees.ArbeesError as exc:       # every arbees failure, secrets redacted
    print(f"bot stopped: {exc}")""",
    "BusError": """\
try:
    await bus.hgetall(arbees.messages.LATEST_PRICES_HASH)
except arbees.BusError:
    ...  # Redis unreachable: retry later""",
    "ConfigError": """\
min_profit = arbees.parse_fixed(text, field="min_profit")
if min_profit < 0:
    raise arbees.ConfigError("--min-profit must be >= 0")""",
    "DecodeError": """\
try:
    price = arbees.parse_fixed(text, field="price")
except arbees.DecodeError as exc:
    print(exc.field, exc)""",
    "Level": """\
asks = (arbees.Level(arbees.parse_fixed("0.45"), 100 * arbees.parse_fixed("1")),)""",
    "Combo": """\
for opp in arbees.find_opportunities(asks, fees):
    print(opp.combo.label, opp.combo.legs)""",
    "Leg": """\
for leg in opportunity.legs:
    print(leg.venue, leg.outcome, arbees.format_fixed(leg.worst_price))""",
    "Opportunity": """\
for opp in arbees.find_opportunities(asks, fees):
    print(opp.combo.label, arbees.format_fixed(opp.size), arbees.format_fixed(opp.profit))""",
    "PairAsks": """\
p = arbees.parse_fixed
asks = arbees.PairAsks(
    kalshi_yes=(arbees.Level(p("0.40"), p("100")),),
    poly_no=(arbees.Level(p("0.50"), p("100")),),
)""",
    "PairFees": """\
fees = arbees.PairFees(
    kalshi=arbees.KalshiFeeModel(),
    poly=arbees.PolymarketFeeModel(Decimal("0.05")),
)""",
    "find_opportunities": """\
for opp in arbees.find_opportunities(asks, fees, min_edge=arbees.parse_fixed("0.01")):
    print(opp.combo.label, arbees.format_fixed(opp.size), arbees.format_fixed(opp.profit))""",
    "format_fixed": """\
arbees.format_fixed(1_250_000)   # '1.25'""",
    "parse_fixed": """\
arbees.parse_fixed("0.05")       # 50000 micro-dollars""",
    "GameShard": """\
async with arbees.open_shard(bus, shard_id="laptop") as shard:
    await trio.sleep(60)
    print(shard.shard_id, shard.stats.signals)""",
    "PolymarketMonitor": """\
async with arbees.open_monitor(bus, egress_url="https://ipinfo.io/json") as monitor:
    await trio.sleep(60)
    print(monitor.healthy, monitor.stats.published)""",
    "Orchestrator": """\
async with arbees.open_orchestrator(bus, egress_url="https://ipinfo.io/json") as orchestrator:
    await trio.sleep(60)
    print(orchestrator.stats.games, orchestrator.stats.unowned)""",
    "OrchestratorConfig": """\
config = arbees.OrchestratorConfig(discovery_interval=60.0, settle_delay=0.5)
async with arbees.open_orchestrator(
    bus, config=config, egress_url="https://ipinfo.io/json"
) as orchestrator:
    ...""",
}
"""Public name -> a few lines showing it in use (``bus`` is an open bus)."""
