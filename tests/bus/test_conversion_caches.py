"""The codec's conversion caches hold the live set, not the history of a varied market."""

from __future__ import annotations

import tracemalloc

import pytest

from arbees import _wire, codec
from arbees.book import Level
from arbees.errors import DecodeError
from arbees.money import CONVERSION_CACHE_MAX

NAMES = ("level wire", "mirror wire", "parsed", "formatted", "decoded levels")


def test_level_caches_stay_bounded_in_entries_and_memory() -> None:
    # A market of varied sizes: every level new. The caches of a level's wire bytes (and
    # its mirror's) and of decoded levels must stay within their cap, and what they hold
    # at the cap within a few MB (at the old 65,536 the two level caches alone held 33 MB).
    caches = (_wire._LEVEL_WIRE, _wire._MIRROR_WIRE, _wire._PARSED, _wire._FORMATTED, codec._LEVELS)
    for cache in caches:
        cache.clear()
    tracemalloc.start()
    try:
        for i in range(3 * _wire._CACHE_MAX):
            level = Level(1_000 * (1 + i % 999), 1_000_000 + 10_000 * i)
            _wire.wire_level(level)
            _wire.wire_mirror_level(level)
            codec._levels([("0.5", f"{100 + i}.25")])
        retained, _peak = tracemalloc.get_traced_memory()
        sizes = {name: len(cache) for name, cache in zip(NAMES, caches, strict=True)}
    finally:
        tracemalloc.stop()
        for cache in caches:
            cache.clear()
    assert all(n <= _wire._CACHE_MAX for n in sizes.values()), sizes
    assert retained < 12_000_000, f"{retained / 1e6:.1f} MB retained"


def test_the_polymarket_protocols_caches_hold_the_live_set() -> None:
    # Every level of a monitor's books passes through the protocol's size cache (text ->
    # micro-units). At its old cap of 65,536 it held about 8 MB in `bench e2e`'s monitor of
    # 10,000 books of 16 levels a side (the dict, each text and each int); capped like the
    # codec's caches it stays near 1 MB.
    from arbees.polymarket import values

    values.sizes.clear()
    values.level_prices.clear()
    tracemalloc.start()
    try:
        for i in range(3 * 65_536):
            assert (
                values.size(f"{10 + i}.{i % 100:02d}", "size")
                == (10 + i) * 1_000_000 + (i % 100) * 10_000
            )
            values.level_price(f"0.{1 + i % 998:03d}", "price")
        retained, _peak = tracemalloc.get_traced_memory()
        held = (len(values.sizes), len(values.level_prices))
    finally:
        tracemalloc.stop()
        values.sizes.clear()
        values.level_prices.clear()
    assert retained < 3_000_000, f"{retained / 1e6:.1f} MB retained"
    assert max(held) <= values.CACHE_MAX == CONVERSION_CACHE_MAX, held


def test_a_field_of_fixed_choices_decodes_to_the_constant_not_a_copy() -> None:
    # A monitor stores every token's assignment: "polymarket" and "assign" decoded anew
    # in each were 1.1 MB of copies over 10,000 tokens. Each is the constant now; a value
    # outside the choices is still refused.
    from arbees.messages import MarketAssignment

    first, second = (
        codec.decode(
            codec.encode(MarketAssignment("polymarket", "0x" + "ab" * 32, token, "s1", "NBA")),
            MarketAssignment,
        )
        for token in ("1" * 40, "2" * 40)
    )
    assert first.platform == second.platform == "polymarket"
    assert first.platform is second.platform
    assert first.action is second.action
    bad = codec.encode(MarketAssignment("polymarket", "0x" + "ab" * 32, "3" * 40, "s1", "NBA"))
    with pytest.raises(DecodeError, match="is not one of"):
        codec.decode(bad.replace(b'"polymarket"', b'"polymarkeT"'), MarketAssignment)
