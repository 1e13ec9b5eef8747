"""The examples are scripts, not a package: put examples/ on sys.path so tests import them
by name, as ``python examples/NAME.py`` does for the scripts themselves."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))
