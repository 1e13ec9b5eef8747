"""Kalshi v2 command frames: ids counting up from 1 per socket, remembered for replies.

``subscribe`` pins ``use_yes_price: false`` (the venue's default is due to flip, and with
``true`` NO levels would arrive already converted to YES prices, silently breaking the
bids-only book). Every command is remembered by id, so ``ok``/``error`` replies — which
carry only the id — can be tied back to what we asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["UPDATE_ACTIONS", "CommandQueue"]

UPDATE_ACTIONS = frozenset({"add_markets", "delete_markets", "get_snapshot"})


class CommandQueue:
    """Builds command frames into an outbox; :meth:`reset` on every new socket."""

    def __init__(self) -> None:
        self.next_id = 1
        self.sent: dict[int, tuple[str, dict[str, Any]]] = {}
        self._outbox: list[str] = []

    def reset(self) -> None:
        self.next_id = 1
        self.sent.clear()
        self._outbox.clear()

    def lookup(self, cmd_id: int | None) -> tuple[str, dict[str, Any]] | None:
        """``(cmd, params)`` of a command we sent on this socket."""
        return None if cmd_id is None else self.sent.get(cmd_id)

    def send(self, cmd: str, params: dict[str, Any] | None = None) -> int:
        cid = self.next_id
        self.next_id += 1
        frame: dict[str, Any] = {"id": cid, "cmd": cmd}
        if params is not None:
            frame["params"] = params
        self.sent[cid] = (cmd, params or {})
        self._outbox.append(json.dumps(frame, separators=(",", ":")))
        return cid

    def subscribe(self, channels: Iterable[str], tickers: Iterable[str]) -> int:
        params = {
            "channels": list(channels),
            "market_tickers": sorted(tickers),
            "use_yes_price": False,
        }
        return self.send("subscribe", params)

    def unsubscribe(self, sids: Iterable[int]) -> int:
        return self.send("unsubscribe", {"sids": sorted(sids)})

    def update_subscription(self, sid: int, tickers: Iterable[str], action: str) -> int:
        if action not in UPDATE_ACTIONS:
            raise ValueError(f"unknown update_subscription action {action!r}")
        params = {"sids": [sid], "market_tickers": sorted(tickers), "action": action}
        return self.send("update_subscription", params)

    def list_subscriptions(self) -> int:
        return self.send("list_subscriptions")

    def __bool__(self) -> bool:
        return bool(self._outbox)

    def drain(self) -> list[str]:
        out, self._outbox = self._outbox, []
        return out
