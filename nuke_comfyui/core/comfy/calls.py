"""`Calls`: how `ComfyClient` sends one request and turns the answer into a value or a typed error.

Split from client.py so that file holds only what each ComfyUI route means. Here: the transport
(core/comfy/transport.py, one keep-alive pool per server), the retry of connection errors with
backoff, each call's deadline and size cap (core/comfy/http.py), and the mapping of HTTP status
codes and garbage bodies onto core/errors.py. Garbage from the server becomes ProtocolError,
never a KeyError or TypeError; a message quoting the server's body is cut short and masked.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Optional, Sequence, Tuple

import requests

from nuke_comfyui.core import redact
from nuke_comfyui.core.comfy import connection, http
from nuke_comfyui.core.comfy.transport import Response, Transport
from nuke_comfyui.core.errors import AuthError, ProtocolError, ServerBusy, ServerError, ServerUnavailable


class Calls:
    """Requests to one server; `ComfyClient` builds the routes on top."""

    def __init__(self, server: Any, *, connect_timeout: float, read_timeout: float, retries: int,
                 backoff: float, transport: Any = None) -> None:
        self.server = server
        self.name = connection.server_name(server)
        self.base_url = connection.base_url(server)
        self.timeout = (connect_timeout, read_timeout)
        self.retries = max(0, int(retries))
        self.backoff = backoff
        # ComfyUI 403s an Origin that does not match Host: the transport never sends one.
        self._transport = transport or Transport(self.base_url, verify=connection.verify_tls(server),
                                                 headers=connection.auth_headers(server))

    def close(self) -> None:
        self._transport.close()

    def _get_json(self, path: str) -> Dict[str, Any]:
        response = self._send("GET", path)
        self._raise_for_status(response, f"GET {path}")
        return self._json_dict(response, f"GET {path}")

    def _checked(self, method: str, path: str, **kwargs: Any) -> Response:
        response = self._send(method, path, **kwargs)
        self._raise_for_status(response, f"{method} {path}")
        return response

    def _send(self, method: str, path: str, *, json_body: Any = None, retry: bool = True,
              **kwargs: Any) -> Response:
        """One request with its whole (capped) body read; connection errors retried when `retry`,
        and a busy answer (429/503) asked again after the Retry-After it gives (bounded)."""
        for attempt in range(1 + (self.retries if retry else 0)):
            response, call = self._open(method, path, json_body=json_body, retry=retry, **kwargs)
            call.read_body(response)
            if response.status_code not in BUSY_CODES or attempt >= (self.retries if retry else 0):
                break
            wait = retry_after(response)
            time.sleep(min(MAX_RETRY_AFTER_S, wait if wait is not None else self.backoff * (2 ** attempt)))
        return response

    def _open(self, method: str, path: str, *, json_body: Any = None, retry: bool = True,
              **kwargs: Any) -> Tuple[Response, http.Call]:
        """Send a request and return once the headers are in; the body is read through the Call,
        which holds the route's total deadline and size cap (see core/comfy/http.py)."""
        what = f"{method} {path}"
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            call = http.Call(what, self.base_url, self.name, http.limits_for(path))
            timeout = (self.timeout[0], call.read_timeout(self.timeout[1]))
            call.begin()  # the route's deadline covers the head as well as the body
            try:
                response = self._transport.request(method, path, json_body=json_body, timeout=timeout, **kwargs)
            except requests.RequestException as exc:
                call.done()
                if call.cut:  # the watchdog cut a head that came too slowly
                    raise call.too_slow() from exc
                self._request_failed(exc, what, timeout, attempt + 1 >= attempts)
                time.sleep(self.backoff * (2 ** attempt))
                continue
            except BaseException:  # not the server's doing (a plate that changed mid-upload): disarm, pass on
                call.done()
                raise
            call.watch(response)
            return response, call
        raise AssertionError("unreachable")

    def _request_failed(self, exc: BaseException, what: str, timeout: Tuple[float, float], last: bool) -> None:
        """Raise the typed error for a request that got no head; return when it may be retried."""
        if isinstance(exc, requests.exceptions.SSLError):  # retrying cannot help: say what to change
            raise ServerUnavailable(f"cannot reach {self.base_url}: {tls_problem(exc, self.name)}",
                                    self.name) from exc
        if isinstance(exc, requests.exceptions.ReadTimeout):
            raise ServerUnavailable(f"{what} got no answer from {self.base_url} within {timeout[1]:g} s; the "
                                    "server may be overloaded or hung", self.name) from exc
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout)):
            if last:
                raise ServerUnavailable(f"cannot reach {self.base_url} ({_connection_reason(exc)}); check that "
                                        "ComfyUI runs there and the host/port are right", self.name) from exc
            return
        raise ProtocolError(f"{what} failed: {_short(exc)}", self.name) from exc

    def _raise_for_status(self, response: Response, what: str) -> None:
        code = response.status_code
        if code < 300:
            return
        if code in BUSY_CODES:
            wait = retry_after(response)
            told = f" and asked us to wait {wait:g} s" if wait is not None else ""
            raise ServerBusy(f"{what}: {self.base_url} is busy (HTTP {code}{_phrase(code)}){told}; its work goes to "
                             "other servers until it answers again", self.name, retry_after=wait)
        if code in (401, 403):
            hint = ("check the server's auth settings (token/user/password)" if response.content
                    else "a proxy or ComfyUI's Origin check refused us; check auth and that the "
                    "proxy keeps the Host header")
            raise AuthError(f"{what} refused with HTTP {code}; {hint}", self.name)
        text = _excerpt(response)
        if code >= 500:
            raise ServerError(f"{what} failed on the server with HTTP {code}: {text or '(empty body)'}; "
                              "see the ComfyUI console for details", self.name, status=code)
        raise ProtocolError(f"{what} answered HTTP {code}: {text or '(empty body)'}; is {self.base_url} "
                            "really a ComfyUI server?", self.name)

    def _json_dict(self, response: Response, what: str) -> Dict[str, Any]:
        body = try_json(response)
        if not isinstance(body, dict):
            got = _excerpt(response) or "(empty body)"
            raise self._protocol(what, f"expected a JSON object, got {got!r}")
        return body

    def _protocol(self, what: str, problem: str) -> ProtocolError:
        return ProtocolError(f"{what}: {problem}; is {self.base_url} really a ComfyUI server (or a proxy "
                             "answering for it)?", self.name)


BUSY_CODES = (429, 503)
#: the longest a call waits for a busy server's Retry-After before asking again (or giving up)
MAX_RETRY_AFTER_S = 10.0


def retry_after(response: Response) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), bounded; None without one."""
    text = str(response.headers.get("Retry-After", "") or "").strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), 3600.0)
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, min(when - time.time(), 3600.0))


def tls_problem(exc: BaseException, server: str) -> str:
    """The likely cause of a failed TLS handshake, naming what to change (verify_tls, the url)."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        detail = "self-signed" if "self-signed" in text or "self signed" in text else "not trusted here"
        return (f"its TLS certificate is {detail}; give the studio's CA file in REQUESTS_CA_BUNDLE, or set "
                f"verify_tls to false for server {server!r} if you trust the network")
    if "hostname" in text.lower() and "match" in text.lower():
        return (f"its TLS certificate is for another host name; use the name the certificate names in the url, or "
                f"set verify_tls to false for server {server!r}")
    return ("the TLS handshake failed; the server probably speaks plain HTTP there (write http:// in its url; "
            f"verify_tls does not matter for this) ({_short(exc)})")


def _phrase(code: int) -> str:
    return {429: " Too Many Requests", 503: " Service Unavailable"}.get(code, "")


def try_json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"")
    except ValueError:
        return None


def _excerpt(response: Response) -> str:
    """The start of a server's body for a message: cut short, and with every secret masked."""
    try:
        text = response.content.decode("utf-8", "replace")
    except (requests.RequestException, AttributeError):
        return ""
    return redact.excerpt(text)


def _connection_reason(exc: BaseException) -> str:
    """A short human reason instead of urllib3's nested exception text."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timed out"
    for needle, reason in (("refused", "connection refused"), ("reset", "connection reset"),
                           ("Name or service not known", "unknown host name"),
                           ("getaddrinfo", "unknown host name"),
                           ("RemoteDisconnected", "connection closed without an answer"),
                           ("aborted", "connection closed without an answer"),
                           ("timed out", "timed out")):
        if needle in text:
            return reason
    return type(exc).__name__


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:160] + "..."


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def get_path(data: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
