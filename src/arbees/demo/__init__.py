"""``arbees demo``: the whole system in one process against the market simulator.

* :mod:`arbees.demo.system` — the in-process deployment (fakes, orchestrator, monitor,
  shards, bus);
* :mod:`arbees.demo.view` — the live terminal view;
* :mod:`arbees.demo.summary` — the end-of-run summary;
* :mod:`arbees.demo.run` — plan, start, play, score.
"""

from __future__ import annotations

from arbees.demo.run import DemoOptions, run_demo
from arbees.demo.system import DemoSettings, DemoSystem, open_demo_system

__all__ = ["DemoOptions", "DemoSettings", "DemoSystem", "open_demo_system", "run_demo"]
