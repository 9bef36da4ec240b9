"""The one redaction helper: keeps configured secrets out of every message, log line and panel.

Why a registry: a server (or a proxy in front of it) may echo our request headers in an error
body, so any text that came from a server can hold the token. Secrets are registered where they
become known — when a client builds its auth headers (`connection.auth_headers`) — in every form
they travel in: the raw token or password, `Bearer <token>`, the base64 `user:password` of basic
auth and its decoded form. `redact()` then replaces each with `***`.

Where it is applied (so nothing reaches a user unredacted):
- `ComfyError` messages (everything the client, pool and scheduler raise about a server), and so
  every job error, journal row and panel tooltip built from them;
- execution errors a server reports (`outputs.failure_from_error`);
- server bodies quoted in messages (`excerpt`: redacted first, then cut short);
- every log record of the process once a secret is known (a log-record factory), and the CLI's
  final error line.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from typing import Any, Mapping, Set, Tuple

MASK = "***"
#: shortest value treated as a secret: redacting 1-3 characters would shred ordinary text
MIN_SECRET = 4
#: how much of a server's body a message quotes
EXCERPT_CHARS = 200

_lock = threading.Lock()
_secrets: Set[str] = set()
_ordered: Tuple[str, ...] = ()  # longest first, so `Bearer <token>` is masked whole before `<token>`
_factory_installed = False
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]+@")


def register_secret(value: Any) -> None:
    """Remember one secret value (ignored when empty or shorter than MIN_SECRET)."""
    global _ordered
    text = str(value or "")
    if len(text) < MIN_SECRET:
        return
    with _lock:
        if text in _secrets:
            return
        _secrets.add(text)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))
    _install_log_factory()


def register_headers(headers: Mapping[str, str]) -> None:
    """Register every secret an auth header carries, in each form it may be echoed back in."""
    for name, value in headers.items():
        if name.lower() not in ("authorization", "proxy-authorization", "x-api-key", "cookie"):
            continue
        register_secret(value)
        scheme, _, credential = str(value).partition(" ")
        if not credential:
            continue
        register_secret(credential)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                continue
            register_secret(decoded)
            register_secret(decoded.partition(":")[2])


def redact(text: Any) -> str:
    """`text` with every registered secret, and the `user:password@` of any URL, replaced by `***`."""
    result = str(text)
    if "@" in result and "://" in result:
        result = _URL_USERINFO.sub(r"\1" + MASK + "@", result)
    for secret in _ordered:
        if secret in result:
            result = result.replace(secret, MASK)
    return result


def excerpt(text: Any, limit: int = EXCERPT_CHARS) -> str:
    """A server's body as one short line: redacted first (a cut must not expose half a secret)."""
    flat = " ".join(redact(text).split())
    return flat[:limit] + ("..." if len(flat) > limit else "")


def _install_log_factory() -> None:
    """Redact every log record of the process from now on (only once a secret is known)."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: leave it to logging to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)


def forget_all() -> None:
    """Tests only: drop every registered secret."""
    global _ordered
    with _lock:
        _secrets.clear()
        _ordered = ()
