"""The README stays true: its commands exist, its variables are read, its math example runs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from arbees.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_quick_start_has_exactly_the_two_set_up_commands() -> None:
    start = README.index("## Quick start")
    section = README[start : README.index("\n## ", start + 1)]
    commands = [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]
    assert commands == [
        "python3 -m pip install . && arbees demo",
        "python3 -m pip install -c constraints.txt -e '.[test]' && python3 -m pytest",
    ]


def test_every_command_in_the_table_exists() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    known = set(sub.choices)  # type: ignore[arg-type]
    named = set(re.findall(r"^\| `arbees ([a-z-]+)", README, flags=re.M))
    assert named, "the commands table is missing"
    assert named <= known, named - known


def test_every_documented_variable_is_read_by_the_code() -> None:
    table = README[README.index("## Configuration") : README.index("## Library usage")]
    names = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", table))
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "arbees").rglob("*.py"))
    missing = sorted(n for n in names if f'"{n}"' not in source)
    assert not missing, f"README documents variables no code reads: {missing}"


def test_the_opportunity_math_example_prints_what_it_says() -> None:
    (example,) = [b for b in _blocks("python") if "find_opportunities" in b]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), {})
    expected = re.search(r"^# (KalshiYes\+PolyNo \S+ \S+)", example, flags=re.M)
    assert expected is not None
    assert out.getvalue().strip() == expected.group(1)
