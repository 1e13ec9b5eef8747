"""A small reader for deploy/Dockerfile and the root .dockerignore, for the offline tests.

No Docker engine runs on CI machines, so the image cannot be built there; these helpers let
the tests check what can be checked without one: the instructions of each stage, and which
files of the repository the build context (filtered by .dockerignore) really contains.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import attrs

__all__ = ["DockerIgnore", "Instruction", "Stage", "build_context_files", "parse_dockerfile"]


@attrs.frozen
class Instruction:
    """One Dockerfile instruction, continuation lines joined.

    Attributes:
        keyword: upper-cased instruction name (``RUN``, ``COPY``...).
        args: the rest of the instruction, comments and line continuations removed.
        line: 1-based line number where it starts.
    """

    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, else None."""
        text = self.args
        if not text.startswith("["):
            return None
        value = json.loads(text)
        return [str(v) for v in value]


@attrs.frozen
class Stage:
    """A build stage: its FROM image (ARG defaults resolved) and its instructions.

    Attributes:
        image: the base image reference.
        name: the ``AS`` name, or "" if unnamed.
        instructions: the stage's instructions after FROM.
    """

    image: str
    name: str
    instructions: tuple[Instruction, ...]


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            continue  # comments (and parser directives) never continue or end a line
        if not buf:
            if not stripped:
                continue
            start = number
        if stripped.endswith("\\"):
            buf.append(stripped[:-1].strip())
            continue
        buf.append(stripped)
        yield start, " ".join(p for p in buf if p)
        buf = []
    if buf:
        yield start, " ".join(p for p in buf if p)


def parse_dockerfile(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages of ``path``."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[Instruction] | None = None
    image = name = ""
    for line, text in _logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, args = text.partition(" ")
        inst = Instruction(keyword.upper(), args.strip(), line)
        if inst.keyword == "FROM":
            if current is not None:
                stages.append(Stage(image, name, tuple(current)))
            parts = [p for p in inst.args.split() if not p.startswith("--")]
            image = re.sub(
                r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), parts[0]
            )
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else ""
            current = []
        elif current is None:
            if inst.keyword == "ARG":
                key, _, default = inst.args.partition("=")
                global_args[key.strip()] = default.strip().strip('"')
        else:
            current.append(inst)
    if current is not None:
        stages.append(Stage(image, name, tuple(current)))
    return global_args, stages


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.strip().strip("/")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


@attrs.frozen
class DockerIgnore:
    """The rules of a .dockerignore file.

    Attributes:
        rules: ``(negated, regex)`` per pattern, in file order.
    """

    rules: tuple[tuple[bool, re.Pattern[str]], ...]

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            rules.append((negate, _pattern_regex(line[1:] if negate else line)))
        return cls(tuple(rules))

    def excludes(self, rel: str) -> bool:
        """Docker's rule: a pattern matches a path or any of its parent directories; the
        last matching pattern wins, and ``!`` re-includes."""
        parts = rel.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for negate, regex in self.rules:
            if any(regex.fullmatch(p) for p in prefixes):
                excluded = not negate
        return excluded


# Large trees no build ever wants; walking them would only slow the tests down (the tests
# check separately that .dockerignore excludes them).
_NEVER_WALKED = frozenset({".git", ".venv", ".venv-ci", ".nox", ".mypy_cache", ".ruff_cache"})


def build_context_files(root: Path, dockerignore: Path) -> set[str]:
    """Relative paths of the files under ``root`` that the build context would contain."""
    rules = DockerIgnore.read(dockerignore)
    files: set[str] = set()
    for path in root.rglob("*"):
        rel_parts = path.relative_to(root).parts
        if rel_parts[0] in _NEVER_WALKED:
            continue
        if path.is_file():
            rel = "/".join(rel_parts)
            if not rules.excludes(rel):
                files.add(rel)
    return files
