"""Write the API reference of ``import arbees`` as Markdown, from the docstrings.

    python docs/gen_api.py                 # -> docs/_build/api.md
    python docs/gen_api.py --out DIR       # -> DIR/api.md
    nox -s docs                            # the same, in its own environment

One section per public name (``arbees.__all__``), grouped as the package docstring groups
them: the signature (``inspect.signature``), the docstring as written (``inspect.getdoc``),
public methods and properties of classes, and the usage example — from the docstring or,
for re-exported names whose docstring has none, from ``arbees._examples``. The output is a
build artefact (``docs/_build/`` is git-ignored); nothing is hosted.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import arbees
from arbees._examples import EXAMPLES

__all__ = ["GROUPS", "main", "render", "render_name"]

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("The bus", ("open_bus", "Bus", "Subscription", "Envelope", "Channel")),
    ("Typed streams", ("signals", "price_updates", "alerts", "typed_stream", "MessageStream")),
    (
        "Messages",
        (
            "ArbSignal",
            "SignalLeg",
            "PolymarketPriceUpdate",
            "SystemAlert",
            "MarketAssignment",
            "TeamLeg",
            "ServiceStatus",
            "ShardHeartbeat",
        ),
    ),
    (
        "Services in your nursery",
        (
            "run_shard",
            "open_shard",
            "GameShard",
            "run_monitor",
            "open_monitor",
            "PolymarketMonitor",
            "run_orchestrator",
            "open_orchestrator",
            "Orchestrator",
            "OrchestratorConfig",
            "KalshiSigner",
        ),
    ),
    (
        "Opportunity math",
        (
            "find_opportunities",
            "PairAsks",
            "PairFees",
            "KalshiFeeModel",
            "PolymarketFeeModel",
            "Opportunity",
            "Leg",
            "Combo",
            "Level",
            "BookView",
        ),
    ),
    ("Money", ("parse_fixed", "format_fixed")),
    ("Errors", ("ArbeesError", "ConfigError", "DecodeError", "BusError")),
)


def _signature(name: str, obj: object) -> str:
    if not callable(obj):
        return name
    try:
        sig = inspect.signature(obj, eval_str=True)  # real types, not 'quoted' strings
    except (NameError, TypeError, ValueError):
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            return name
    return f"{name}{sig}"


def _members(cls: type) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        if inspect.isfunction(value) or isinstance(value, property | classmethod | staticmethod):
            found.append((attr, value))
    return found


def _member_doc(cls: type, attr: str, value: object) -> str:
    target: object = value
    if isinstance(value, classmethod | staticmethod):
        target = value.__func__
    if isinstance(value, property):
        head = f"`{attr}` (property)"
        doc = inspect.getdoc(value) or ""
    else:
        head = f"`{_signature(attr, getattr(cls, attr))}`"
        doc = inspect.getdoc(target) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ") if doc else ""
    return f"- {head}" + (f": {first}" if first else "")


def render_name(name: str) -> str:
    """The Markdown section of one public name."""
    obj = getattr(arbees, name)
    kind = "class" if inspect.isclass(obj) else "function"
    lines = [f"### `arbees.{name}`", "", f"*{kind}*, defined in `{obj.__module__}`", ""]
    lines += ["```python", _signature(name, obj), "```", ""]
    doc = inspect.getdoc(obj) or "(no docstring)"
    lines += [doc, ""]
    if name in EXAMPLES:
        lines += ["Example:", "", "```python", EXAMPLES[name], "```", ""]
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        members = [_member_doc(obj, attr, value) for attr, value in _members(obj)]
        if members:
            lines += ["Members:", "", *members, ""]
    return "\n".join(lines)


def render() -> str:
    """The whole reference (every name of ``arbees.__all__`` exactly once)."""
    listed = [n for _, names in GROUPS for n in names]
    missing = sorted(set(arbees.__all__) - {"__version__"} - set(listed))
    groups = (*GROUPS, ("Other", tuple(missing))) if missing else GROUPS
    package_doc = inspect.getdoc(arbees) or ""
    out = [f"# arbees {arbees.__version__} — API reference", "", package_doc, ""]
    out += ["## Contents", ""]
    for title, names in groups:
        out.append(f"- **{title}**: " + ", ".join(f"`{n}`" for n in names))
    out.append("")
    for title, names in groups:
        out += [f"## {title}", ""]
        out += [render_name(n) for n in names]
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description="Write docs/_build/api.md from the docstrings.")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "_build", help="directory"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "api.md"
    target.write_text(render(), encoding="utf-8")
    out(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
