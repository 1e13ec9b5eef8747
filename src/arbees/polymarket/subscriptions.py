"""Which Polymarket tokens go on which socket, and what each socket must send (sans-io).

The feed's subscription state, kept apart from its I/O as Kalshi's is in
:class:`~arbees.kalshi.protocol.KalshiProtocol`: no Trio, no sockets, times passed in. The
feed (:mod:`arbees.polymarket.feed`) asks it what to do and does it.

* **Placement.** Tokens fill the sockets that have room (``per_socket``, at most the venue's
  500), in order; the rest go on new sockets. A socket left with no token is closed.
* **Frames.** Each socket remembers what its current connection has subscribed.
  :meth:`Subscriptions.frames` returns the frames that bring the venue to the socket's
  CURRENT token set: the first frame of a connection is the initial ``subscribe_frame``,
  later ones ``subscribe`` / ``unsubscribe`` updates. The feed sends them when a connection
  is made (re-asking after every frame it awaited, so a token added meanwhile is never lost)
  and after an add or remove on a connected socket. A new connection starts from nothing
  (:meth:`Subscriptions.connection_made`), so a reconnect subscribes exactly what is left.
* **Resyncs.** A reconnect is the only reliable way to get fresh snapshots; one socket does
  it at most once per ``resync_interval``. One asked for sooner is deferred to the end of the
  interval (:meth:`Subscriptions.request_resync` says when), and at that point only the
  tokens still on the socket are handed back (:meth:`Subscriptions.take_deferred`), for the
  feed to resync those whose books are still stale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from arbees.errors import ConfigError
from arbees.polymarket.wire import subscribe_frame, update_frame

__all__ = ["MAX_ASSETS_PER_SOCKET", "Placement", "Removal", "Resync", "Socket", "Subscriptions"]

MAX_ASSETS_PER_SOCKET = 500


@attrs.define
class Socket:
    """One connection's subscription state.

    Attributes:
        index: the socket's number (its driver is named after it).
        tokens: the tokens it carries (ordered set).
        sent: what its current connection has subscribed (``None``: nothing sent yet, the
            next subscription is the connection's initial frame).
        subscribed_at: when the current connection's subscriptions went out (``inf`` while
            connecting or disconnected).
        last_resync: when it last reconnected for fresh snapshots.
        deferred: tokens a deferred resync is waiting for.
    """

    index: int
    tokens: dict[str, None] = attrs.Factory(dict)
    sent: dict[str, None] | None = None
    subscribed_at: float = math.inf
    last_resync: float = -math.inf
    deferred: set[str] = attrs.Factory(set)


@attrs.frozen
class Placement:
    """Where :meth:`Subscriptions.add` put new tokens.

    Attributes:
        joined: tokens that joined an existing socket, by socket index.
        created: indexes of the sockets opened for the rest (each with its tokens).
    """

    joined: dict[int, list[str]]
    created: list[int]


@attrs.frozen
class Removal:
    """What :meth:`Subscriptions.remove` took away.

    Attributes:
        left: tokens removed from sockets that stay open, by socket index.
        closed: indexes of the sockets left with no token (to close).
        tokens: every token removed (they were subscribed).
    """

    left: dict[int, list[str]]
    closed: list[int]
    tokens: list[str]


@attrs.frozen
class Resync:
    """The answer to :meth:`Subscriptions.request_resync`.

    Attributes:
        now: reconnect the socket now.
        defer_for: start a deferred resync that fires after this many seconds (``None``: none
            to start, one is already waiting or nothing is owed).
    """

    now: bool
    defer_for: float | None = None


class Subscriptions:
    """The feed's sockets and their tokens; see the module docstring.

    Args:
        per_socket: tokens per socket (1..500).
        resync_interval: minimum seconds between two resyncs of one socket.
        custom_features: ask for the venue's custom feature events in every subscription.
    """

    def __init__(
        self, per_socket: int, *, resync_interval: float, custom_features: bool = False
    ) -> None:
        if not 1 <= per_socket <= MAX_ASSETS_PER_SOCKET:
            raise ConfigError(f"tokens_per_socket must be in 1..{MAX_ASSETS_PER_SOCKET}")
        self.per_socket = per_socket
        self.resync_interval = resync_interval
        self.custom_features = custom_features
        self.sockets: dict[int, Socket] = {}
        self.socket_of: dict[str, int] = {}
        self._next_index = 0

    def __contains__(self, token: object) -> bool:
        return token in self.socket_of

    @property
    def tokens(self) -> list[str]:
        """Every subscribed token."""
        return list(self.socket_of)

    def layout(self) -> list[list[str]]:
        """Tokens per open socket, in socket order."""
        return [list(s.tokens) for s in self.sockets.values()]

    # -- placement ---------------------------------------------------------------------

    def add(self, tokens: Iterable[str]) -> Placement:
        """Place the tokens not yet subscribed: sockets with room first, then new ones."""
        new = [t for t in dict.fromkeys(tokens) if t not in self.socket_of]
        joined: dict[int, list[str]] = {}
        for sock in self.sockets.values():
            if not new:
                break
            room = max(self.per_socket - len(sock.tokens), 0)
            take, new = new[:room], new[room:]
            if take:
                self._assign(sock, take)
                joined[sock.index] = take
        created = []
        for i in range(0, len(new), self.per_socket):
            sock = Socket(self._next_index)
            self._next_index += 1
            self.sockets[sock.index] = sock
            self._assign(sock, new[i : i + self.per_socket])
            created.append(sock.index)
        return Placement(joined, created)

    def remove(self, tokens: Iterable[str]) -> Removal:
        """Take tokens off their sockets; a socket left empty is closed (forgotten)."""
        left: dict[int, list[str]] = {}
        removed = []
        for token in tokens:
            index = self.socket_of.pop(token, None)
            if index is None:
                continue
            removed.append(token)
            self.sockets[index].tokens.pop(token, None)
            left.setdefault(index, []).append(token)
        closed = [i for i in left if not self.sockets[i].tokens]
        for index in closed:
            del self.sockets[index]
            del left[index]
        return Removal(left, closed, removed)

    def _assign(self, sock: Socket, tokens: list[str]) -> None:
        for token in tokens:
            sock.tokens[token] = None
            self.socket_of[token] = sock.index

    # -- connections -------------------------------------------------------------------

    def connection_made(self, index: int) -> None:
        """A new connection of socket ``index``: nothing is subscribed on it yet."""
        sock = self.sockets.get(index)
        if sock is not None:
            sock.sent = None
            sock.subscribed_at = math.inf

    def frames(self, index: int) -> list[str]:
        """The frames that bring the connection to the socket's current token set (and
        count them as sent). Empty when it is up to date or the socket is closed."""
        sock = self.sockets.get(index)
        if sock is None:
            return []
        sent = sock.sent if sock.sent is not None else {}
        added = [t for t in sock.tokens if t not in sent]
        removed = [t for t in sent if t not in sock.tokens]
        out = []
        if added:
            if sock.sent is None:
                out.append(subscribe_frame(added, custom_features=self.custom_features))
            else:
                frame = update_frame("subscribe", added, custom_features=self.custom_features)
                out.append(frame)
            sent.update(dict.fromkeys(added))
            sock.sent = sent
        if removed:
            out.append(update_frame("unsubscribe", removed))
            for token in removed:
                del sent[token]
        return out

    def subscribed(self, index: int, now: float) -> None:
        """The connection's subscriptions went out at ``now``."""
        sock = self.sockets.get(index)
        if sock is not None:
            sock.subscribed_at = now

    def connection_lost(self, index: int) -> list[str]:
        """Socket ``index`` lost its connection: the tokens whose books are now unconfirmed."""
        sock = self.sockets.get(index)
        if sock is None:
            return []
        sock.subscribed_at = math.inf
        return list(sock.tokens)

    # -- resyncs -----------------------------------------------------------------------

    def request_resync(self, index: int, tokens: Iterable[str], now: float) -> Resync:
        """Reconnect socket ``index`` now, or defer it (for ``tokens``) to the end of its
        ``resync_interval``."""
        sock = self.sockets.get(index)
        if sock is None:
            return Resync(False)
        wait = sock.last_resync + self.resync_interval - now
        if wait <= 0:
            sock.last_resync = now
            return Resync(True)
        first = not sock.deferred
        sock.deferred.update(tokens)
        return Resync(False, wait if first and sock.deferred else None)

    def take_deferred(self, index: int) -> list[str]:
        """The tokens a deferred resync of socket ``index`` waited for that are still on it
        (the wait is over: the next request starts a new one)."""
        sock = self.sockets.get(index)
        if sock is None:
            return []
        still = [t for t in sock.deferred if t in sock.tokens]
        sock.deferred.clear()
        return still
