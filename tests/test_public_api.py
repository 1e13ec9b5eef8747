"""The curated ``import arbees`` API: complete, documented with examples, nothing private,
and cheap to import (names load on first use)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import arbees
from arbees._examples import EXAMPLES


def _public(name: str) -> bool:
    return not name.startswith("_")


def test_all_is_sorted_unique_and_importable() -> None:
    assert len(set(arbees.__all__)) == len(arbees.__all__)
    for name in arbees.__all__:
        assert getattr(arbees, name) is not None, name
        exec(f"from arbees import {name}", {})  # the `from arbees import X` spelling too


def test_every_lazy_name_is_exported_and_every_export_resolves() -> None:
    lazy = set(arbees._HOME)
    assert lazy == set(arbees.__all__) - {"__version__"}
    for name, home in arbees._HOME.items():
        module = __import__(home, fromlist=[name])
        assert getattr(arbees, name) is getattr(module, name), name


def test_nothing_private_leaks() -> None:
    """Every public attribute of the package is either exported or a submodule."""
    for name in dir(arbees):
        value = getattr(arbees, name)
        if not _public(name) or isinstance(value, types.ModuleType):
            continue
        assert name in arbees.__all__, f"arbees.{name} is public but not in __all__"
    with pytest.raises(AttributeError, match="no attribute 'secret_thing'"):
        _ = arbees.secret_thing  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(set(arbees.__all__) - {"__version__"}))
def test_every_public_name_has_a_docstring_and_an_example(name: str) -> None:
    value = getattr(arbees, name)
    doc = value.__doc__
    assert (doc or "").strip(), f"arbees.{name} has no docstring"
    if not (inspect.isclass(value) or callable(value)):
        pytest.fail(f"arbees.{name} is neither a class nor a function")
    own_example = "Example" in doc or ">>>" in doc
    assert own_example or name in EXAMPLES, f"arbees.{name} needs an example"
    if name in EXAMPLES:
        assert not own_example, f"arbees.{name} has its own example: drop the catalog entry"
        compile(EXAMPLES[name], f"<example {name}>", "exec", flags=0x2000)  # top-level await


def test_catalog_names_are_public() -> None:
    assert set(EXAMPLES) <= set(arbees.__all__)


def test_version() -> None:
    assert arbees.__version__.count(".") == 2


def test_import_is_cheap() -> None:
    """`import arbees` loads no Trio, httpx, Redis or venue client until a name is used."""
    code = (
        "import sys, arbees; heavy = [m for m in ('trio', 'httpx', 'redis', 'cryptography', "
        "'arbees.kalshi', 'arbees.polymarket', 'arbees.services') if m in sys.modules]; "
        "print(heavy); arbees.find_opportunities; print('trio' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split("\n")[:2] == ["[]", "False"]  # the math needs no Trio either


def test_api_reference_lists_every_public_name_once(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
    try:
        import gen_api
    finally:
        sys.path.pop(0)
    lines: list[str] = []
    assert gen_api.main(["--out", str(tmp_path)], out=lines.append) == 0
    text = (tmp_path / "api.md").read_text(encoding="utf-8")
    for name in set(arbees.__all__) - {"__version__"}:
        assert text.count(f"### `arbees.{name}`") == 1, name
    assert "run_shard(bus: arbees.bus.base.Bus, *, shard_id: str = 'local'" in text
    assert EXAMPLES["find_opportunities"] in text
    assert lines == [f"wrote {tmp_path / 'api.md'}"]


async def test_streams_are_typed_filtered_and_iterable_without_entering() -> None:
    import trio

    got: list[arbees.SystemAlert] = []
    async with arbees.open_bus("memory://") as bus:
        stream = arbees.alerts(bus, min_severity="warning")
        with pytest.raises(RuntimeError, match="async with"):
            await stream.receive()

        async def consume() -> None:
            async for alert in stream:  # subscribes by itself for the loop
                got.append(alert)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            while not bus._subs:  # type: ignore[attr-defined]  # noqa: ASYNC110
                await trio.sleep(0.01)
            for severity in ("info", "warning", "critical"):
                alert = arbees.SystemAlert("T", "test", severity, 0, severity)
                await bus.publish(arbees.Channel.SYSTEM_ALERTS, alert)
            while len(got) < 2:  # noqa: ASYNC110
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()  # the loop is cancelled: its subscription ends
        assert not bus._subs  # type: ignore[attr-defined]
        assert [a.severity for a in got] == ["warning", "critical"]
        async with arbees.alerts(bus) as entered:  # leaving early: enter it
            await bus.publish(arbees.Channel.SYSTEM_ALERTS, alert)
            async for first in entered:
                assert first == alert
                break
        assert not bus._subs  # type: ignore[attr-defined]
        assert (stream.received, stream.skipped) == (2, 1)
        async with arbees.price_updates(bus, tokens={"1"}) as prices:
            assert prices.channels == (arbees.Channel.POLYMARKET_PRICES,)
    with pytest.raises(ValueError, match="min_severity"):
        arbees.alerts(bus, min_severity="loud")
    with pytest.raises(ValueError, match="unknown signal events"):
        arbees.signals(bus, events={"opened"})
