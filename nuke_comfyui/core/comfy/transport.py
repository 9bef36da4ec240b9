"""`Transport`: one server's keep-alive connection pool, on urllib3 without requests' session layer.

Why not a `requests.Session`: against a near-instant server, requests spent about 0.65 ms of CPU
per call preparing, merging settings, re-reading the environment and building its response; the
same call on urllib3's pool costs under 0.3 ms, and a job makes at least two calls (POST /prompt,
GET /view) while the pool probes every server twice a second. What requests did for us is kept:

- the environment is honoured, read once per server: HTTP(S)_PROXY / NO_PROXY (through a proxy
  pool), REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE when verification is on, ~/.netrc credentials;
- TLS is verified against certifi's bundle unless the server's config turns verification off;
- connections are kept alive and reused, at most 16 per server;
- errors come out as requests' exception types (ConnectionError, ConnectTimeout, ReadTimeout,
  SSLError, ...), so the client's error typing is the same as before.

Plain `http://` servers that no proxy applies to (the usual farm on a studio network) go through
core/comfy/plain_http.py instead: a lean keep-alive pool on raw sockets, about a tenth of
urllib3's CPU per call, with the same error types. TLS and proxies stay on urllib3.

`Response` offers the few members of `requests.Response` the client and core/comfy/http.py use,
over either backend. Redirects are never followed and nothing is retried here (the client
decides what may be).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlencode, urlsplit

import urllib3
from requests import exceptions as rex
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_environ_proxies, get_netrc_auth
from urllib3 import connection as u3_connection
from urllib3 import connectionpool as u3_pools
from urllib3 import exceptions as u3

from nuke_comfyui.core.comfy.http import attach_socket
from nuke_comfyui.core.comfy.plain_http import PlainPool
from nuke_comfyui.core.comfy.upload_body import streamed_files

USER_AGENT = "nuke-comfyui"
MAX_CONNECTIONS = 16


class Response:
    """A response whose headers are in; the body is read through `iter_content` or `content`."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw  # urllib3's HTTPResponse or plain_http's PlainResponse (the same few members)
        self.status_code: int = int(raw.status)
        self.headers: Mapping[str, str] = raw.headers
        self._content: Optional[bytes] = None
        self._content_consumed = False

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """The body in chunks (decoded as the server's Content-Encoding says)."""
        try:
            yield from self.raw.stream(chunk_size, decode_content=True)
        except u3.ReadTimeoutError as exc:
            raise rex.ConnectionError(exc) from None
        except u3.SSLError as exc:
            raise rex.SSLError(exc) from None
        except (u3.ProtocolError, u3.DecodeError, u3.HTTPError) as exc:
            raise rex.ChunkedEncodingError(exc) from None
        self._content_consumed = True

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = b"".join(self.iter_content(1 << 16))
        return self._content

    def close(self) -> None:
        """Hand the connection back for reuse when the body was read to its end; else drop it."""
        if not self._content_consumed:
            self.raw.close()
        self.raw.release_conn()


class _WatchedHTTPConnection(u3_connection.HTTPConnection):
    """urllib3's connection, handing its socket to the call's deadline before the head is read."""

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        attach_socket(getattr(self, "sock", None))
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(u3_connection.HTTPSConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        attach_socket(getattr(self, "sock", None))
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(u3_pools.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(u3_pools.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS: Dict[str, Any] = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _NoHeaderTraceback(logging.Filter):
    """urllib3 logs a head it could not parse (one cut by a deadline, a broken proxy) as a warning
    *with a traceback*; the call's own error already says what happened, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to parse headers")


logging.getLogger("urllib3.connection").addFilter(_NoHeaderTraceback())


class Transport:
    """Every request to one base URL (`http(s)://host:port[/prefix]`), thread-safe."""

    def __init__(self, base_url: str, *, verify: bool = True, headers: Optional[Mapping[str, str]] = None) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._prefix = parts.path.rstrip("/")
        self._headers: Dict[str, str] = {"User-Agent": USER_AGENT, "Accept": "*/*",
                                         "Accept-Encoding": "gzip, deflate"}
        netrc = get_netrc_auth(self.base_url)
        if netrc:  # like requests: ~/.netrc credentials for this host (a configured header still wins)
            self._headers.update(urllib3.make_headers(basic_auth=f"{netrc[0]}:{netrc[1]}"))
        self._headers.update(headers or {})
        tls = self._tls(verify) if parts.scheme == "https" else {}
        proxy = self._proxy(parts.scheme)
        self._via_proxy = proxy is not None
        self._proxy_url, self._tls_options = proxy, tls
        self._plain = parts.scheme == "http" and proxy is None  # direct plain HTTP: the lean pool
        self._host_port = (parts.hostname or "", parts.port or 80, parts.netloc.rpartition("@")[2])
        self._pool: Any = self._new_pool()

    def _new_pool(self) -> Any:
        if self._plain:
            host, port, host_header = self._host_port
            return PlainPool(host, port, host_header, MAX_CONNECTIONS)
        if self._proxy_url is not None:
            manager = urllib3.ProxyManager(self._proxy_url, num_pools=1, maxsize=MAX_CONNECTIONS, block=False,
                                           proxy_headers=_proxy_auth(self._proxy_url), **self._tls_options)
            manager.pool_classes_by_scheme = _WATCHED_POOLS  # each call's deadline covers the head too
            return manager
        parts = urlsplit(self.base_url)
        pool_class = _WATCHED_POOLS[parts.scheme]
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return pool_class(parts.hostname, port=port, maxsize=MAX_CONNECTIONS, block=False, **self._tls_options)

    @staticmethod
    def _tls(verify: bool) -> Dict[str, Any]:
        if not verify:
            return {"cert_reqs": "CERT_NONE", "assert_hostname": False}
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle and os.path.isdir(bundle):
            return {"cert_reqs": "CERT_REQUIRED", "ca_cert_dir": bundle}
        return {"cert_reqs": "CERT_REQUIRED", "ca_certs": bundle or DEFAULT_CA_BUNDLE_PATH}

    def _proxy(self, scheme: str) -> Optional[str]:
        proxies = get_environ_proxies(self.base_url)  # honours NO_PROXY (loopback is usually there)
        proxy = proxies.get(scheme) or proxies.get("all")
        if not proxy:
            return None
        return proxy if "://" in proxy else f"http://{proxy}"

    def close(self) -> None:
        """Close every pooled connection; a later request opens a new one (like requests' close)."""
        old, self._pool = self._pool, self._new_pool()
        closer = getattr(old, "clear", None) or old.close  # a proxy manager / one pool
        closer()

    def request(self, method: str, path: str, *, json_body: Any = None, params: Optional[Mapping[str, Any]] = None,
                files: Optional[Mapping[str, Tuple[str, Any, str]]] = None,
                data: Optional[Mapping[str, str]] = None, timeout: Tuple[float, float] = (3.0, 30.0)) -> Response:
        """Send one request and return once the response headers are in (the body is not read)."""
        url = self._prefix + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        headers = dict(self._headers)
        body: Any = None
        stream = streamed_files(files, data) if files is not None else None
        if stream is not None:  # a file straight from disk (core/comfy/upload_body.py)
            body = stream
            headers["Content-Type"] = stream.content_type
            headers["Content-Length"] = str(len(stream))
        elif files is not None:
            fields: Sequence[Any] = [*(data or {}).items(), *files.items()]
            body, content_type = urllib3.encode_multipart_formdata(fields)
            headers["Content-Type"] = content_type
        elif json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urlencode(data).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self._plain:  # raises requests' exception types itself
            return Response(self._pool.request(method, url or "/", headers, body, timeout))
        if self._via_proxy:
            url = self.base_url[: len(self.base_url) - len(self._prefix)] + url
        try:
            raw = self._pool.urlopen(method, url, body=body, headers=headers, retries=False, redirect=False,
                                     preload_content=False, decode_content=True, assert_same_host=False,
                                     timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]))
        except u3.NewConnectionError as exc:
            raise rex.ConnectionError(exc) from None
        except u3.ConnectTimeoutError as exc:
            raise rex.ConnectTimeout(exc) from None
        except u3.ReadTimeoutError as exc:
            raise rex.ReadTimeout(exc) from None
        except u3.ProxyError as exc:
            raise rex.ProxyError(exc) from None
        except u3.SSLError as exc:
            raise rex.SSLError(exc) from None
        except (u3.ProtocolError, OSError) as exc:
            raise rex.ConnectionError(exc) from None
        except u3.HTTPError as exc:
            raise rex.RequestException(exc) from None
        return Response(raw)


def _proxy_auth(proxy: str) -> Optional[Dict[str, str]]:
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    from urllib.parse import unquote

    return dict(urllib3.make_headers(proxy_basic_auth=f"{unquote(parts.username)}:{unquote(parts.password or '')}"))
