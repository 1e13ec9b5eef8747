"""Optional native build: the cffi extension ``arbees._native_kernel`` (see native/).

Everything else lives in pyproject.toml. If the C compiler is missing or the build fails,
installation still succeeds with a warning and ``arbees.kernel`` uses its pure-Python
fallback (``arbees.kernel.BACKEND == "python"``). Works for ``pip install .`` and
``pip install -e .`` (setuptools builds the extension in place for editable installs).
"""

from __future__ import annotations

import warnings

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that turns a failed native build into a warning."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # a missing compiler raises from several layers
            self._warn(exc)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._warn(exc)

    @staticmethod
    def _warn(exc: Exception) -> None:
        message = (
            f"arbees: native kernel not built ({exc.__class__.__name__}: {exc}); "
            "the pure-Python fallback will be used"
        )
        warnings.warn(message, stacklevel=1)
        print(f"WARNING: {message}")


setup(
    cffi_modules=["native/build_kernel.py:ffibuilder"],
    cmdclass={"build_ext": OptionalBuildExt},
)
