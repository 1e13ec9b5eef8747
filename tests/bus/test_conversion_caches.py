"""The codec's conversion caches hold the live set, not the history of a varied market."""

from __future__ import annotations

import tracemalloc

from arbees import _wire, codec
from arbees.book import Level

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
