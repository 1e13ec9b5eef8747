"""The arbees exception tree.

Every exception arbees raises on purpose derives from :class:`ArbeesError`, so a bot can
catch the whole family with one ``except`` clause::

    ArbeesError
    ├── ConfigError          bad or missing configuration (env var, key file, URL)
    ├── DecodeError          a payload (bus message, venue frame, REST body) failed validation;
    │                        ``.field`` names the offending field when known
    ├── BusError             the message bus failed in a way the caller must see
    │   └── BusClosedError   publish/subscribe on a bus that was closed
    ├── VenueError           a venue (Kalshi, Polymarket) misbehaved or refused
    │   ├── AuthError        the venue rejected our credentials (HTTP 401/403)
    │   ├── NotFoundError    unknown instrument (e.g. HTTP 404 for a token id)
    │   └── RateLimitedError retries on HTTP 429 were exhausted
    ├── EgressError          the process's egress could not be verified (fail closed)
    └── KernelError          the native arbitrage kernel was given unusable input

Exception groups raised by Trio nurseries are translated at API boundaries, e.g.
``raise BusError("redis bridge failed") from group`` — callers never have to unwrap
nested groups themselves.

No exception message produced by arbees contains a secret (API keys, private keys,
passwords): URLs are redacted with :func:`arbees.config.redact_url` before use in messages.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = [
    "HOSTILE_INPUT_ERRORS",
    "ArbeesError",
    "AuthError",
    "BusClosedError",
    "BusError",
    "ConfigError",
    "DecodeError",
    "DecodeRejection",
    "EgressError",
    "KernelError",
    "NotFoundError",
    "RateLimitedError",
    "VenueError",
]


class ArbeesError(Exception):
    """Base class of every error arbees raises on purpose."""


class ConfigError(ArbeesError):
    """Configuration is missing or invalid (the message says which setting)."""


class DecodeError(ArbeesError, ValueError):
    """A payload failed validation.

    Attributes:
        field: the offending field (dotted path) when known, else ``None``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


@attrs.frozen(order=True)
class DecodeRejection:
    """One item of a venue payload (an event, a market) that could not be decoded.

    A batch decoder returns these next to what it could decode, so one bad item costs only
    itself: the caller counts them and puts them in its report.

    Attributes:
        item: the item's id when it has a readable one (event slug or ticker, condition id),
            else its position (``events[3]``, ``nba-okc-sas-2026-10-20/markets[1]``).
        reason: why it was refused (never contains secrets).
        field: the offending field (dotted path) when known, else ``None``.
    """

    item: str
    reason: str
    field: str | None = None

    @classmethod
    def of(cls, item: str, error: BaseException) -> DecodeRejection:
        """The rejection of ``item`` for ``error`` (its ``field`` when it is a DecodeError)."""
        if isinstance(error, DecodeError):
            return cls(item, str(error), error.field)
        return cls(item, f"{type(error).__name__}: {str(error)[:120]}")


class BusError(ArbeesError):
    """The message bus failed."""


class BusClosedError(BusError):
    """The bus (or a subscription) was already closed."""


class VenueError(ArbeesError):
    """A venue misbehaved or refused a request."""


class AuthError(VenueError):
    """The venue rejected our credentials."""


class NotFoundError(VenueError):
    """The venue does not know the requested instrument."""


class RateLimitedError(VenueError):
    """The venue kept answering HTTP 429 after all retries."""


class EgressError(ArbeesError):
    """Egress could not be verified; Polymarket traffic must not flow."""


class KernelError(ArbeesError):
    """The arbitrage kernel was given unusable input."""


HOSTILE_INPUT_ERRORS: Final = (RecursionError, ValueError, OverflowError, TypeError)
"""What decoding untrusted bytes can raise besides a clean validation error.

JSON nested deeper than the interpreter's recursion limit (``RecursionError``), an integer
literal past Python's 4,300-digit conversion limit or a lone surrogate in a ``str`` frame
(``ValueError``/``UnicodeError``), a number too large for its target (``OverflowError``),
a value of an unhashable or unexpected type (``TypeError``). ``msgspec.DecodeError`` and
:class:`DecodeError` are ``ValueError`` too. Parsers catch exactly this tuple at their one
decode boundary and turn it into a counted, logged rejection; it is not meant for wrapping
book-mutation logic, where such an exception would be a bug to see.
"""
