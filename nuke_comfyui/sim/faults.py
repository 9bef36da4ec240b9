"""HTTP-level faults of a misbehaving server or proxy, for the bad-server tests (issue 15).

Each is one field of `HttpFaults`, set on a running server through its options
(`cluster.servers[i].options.faults = HttpFaults(...)`; it applies from the next request on), and
applied by one aiohttp middleware, so the protocol code of the simulator stays untouched:

- `trickle_s`: answers to GET routes are sent one byte every `trickle_s` seconds (the body of a
  slow proxy that never quite stalls, so no per-read timeout fires);
- `huge_mb`: GET /queue answers a valid JSON object of that many MB (not ComfyUI's shape);
- `not_comfy`: every JSON answer is replaced by `{"hello": "world"}` (some other web service);
- `echo_headers`: every request is answered HTTP 500 with the request headers in the body, like
  a proxy's debug error page (what leaks a bearer token if error bodies are shown as they are);
- `output_name`: every file in /history and /api/jobs outputs, and in the WebSocket `executed`
  messages, is reported under this name (e.g. `../../x.png`, `/tmp/x.png`, `C:\\x.png`), as a
  hostile server would: everywhere a client may read result names from (`renamed_output`);
- `answers`: fixed answers by `"METHOD /route"` (the `/api` prefix ignored), as a proxy in front
  of ComfyUI gives them: `{"POST /prompt": (400, "Bad Request", {})}` is a 400 that is not JSON,
  `{"POST /upload/image": (413, "", {})}` an upload too large for the proxy, `(429, "",
  {"Retry-After": "2"})` a busy one;
- `gzip_view_mb`: every GET /view answers that many MB of zeros gzip-encoded (a few kB on the
  wire), the decompression bomb a hostile server can send as a "result".
"""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

from aiohttp import web


@dataclass
class HttpFaults:
    trickle_s: Optional[float] = None
    huge_mb: int = 0
    not_comfy: bool = False
    echo_headers: bool = False
    output_name: Optional[str] = None
    answers: Dict[str, Tuple[int, str, Dict[str, str]]] = field(default_factory=dict)
    gzip_view_mb: int = 0
    answers_left: Optional[int] = None  # `answers` apply to this many requests only (None: to all)


def middleware(current: Callable[[], Optional[HttpFaults]]) -> Any:
    """The aiohttp middleware applying `current()`'s faults (None: behave)."""

    @web.middleware
    async def apply_faults(request: web.Request, handler: Any) -> web.StreamResponse:
        faults = current()
        if faults is None or request.path.endswith("/ws"):
            return await handler(request)
        route = request.path[4:] if request.path.startswith("/api/") else request.path
        canned = faults.answers.get(f"{request.method} {route}")
        if canned is not None and faults.answers_left is not None:
            if faults.answers_left <= 0:
                canned = None
            else:
                faults.answers_left -= 1
        if canned is not None:
            status, text, headers = canned
            return web.Response(status=status, text=text, headers=headers)
        if faults.gzip_view_mb and route == "/view":
            body = gzip.compress(bytes(faults.gzip_view_mb << 20), 9)
            return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "image/png"})
        if faults.echo_headers:
            echoed = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
            return web.Response(status=500, text=f"proxy error; request was:\n{echoed}")
        if faults.huge_mb and request.method == "GET" and request.path.endswith("/queue"):
            return _huge(faults.huge_mb)
        response = await handler(request)
        if not isinstance(response, web.Response) or response.body is None:
            return response
        if faults.not_comfy and response.content_type == "application/json":
            return web.json_response({"hello": "world"})
        if faults.output_name and ("/history" in request.path or "/jobs" in request.path):
            response = _renamed(response, faults.output_name)
        if faults.trickle_s and request.method == "GET":
            return await _trickle(request, response, faults.trickle_s)
        return response

    return apply_faults


def renamed_output(faults: Optional[HttpFaults], event: str, data: Any) -> Any:
    """An `executed` message's data with its files renamed when `output_name` is set (else as is)."""
    if faults is None or not faults.output_name or event != "executed":
        return data
    renamed = json.loads(json.dumps(data))
    _rename_files(renamed, faults.output_name)
    return renamed


def _huge(megabytes: int) -> web.Response:
    filler = "x" * 1024
    items = ",".join(f'"{filler}"' for _ in range(megabytes * 1024))
    return web.Response(body=('{"padding": [' + items + "]}").encode(), content_type="application/json")


def _renamed(response: web.Response, name: str) -> web.Response:
    try:
        data = json.loads(bytes(response.body))  # type: ignore[arg-type]
    except ValueError:
        return response
    _rename_files(data, name)
    return web.json_response(data, status=response.status)


def _rename_files(value: Any, name: str) -> None:
    if isinstance(value, dict):
        if isinstance(value.get("filename"), str) and "type" in value:
            value["filename"] = name
            value["subfolder"] = ""
        for item in value.values():
            _rename_files(item, name)
    elif isinstance(value, list):
        for item in value:
            _rename_files(item, name)


async def _trickle(request: web.Request, response: web.Response, every_s: float) -> web.StreamResponse:
    body = bytes(response.body)  # type: ignore[arg-type]
    stream = web.StreamResponse(status=response.status, headers={"Content-Type": response.content_type})
    stream.content_length = len(body)
    await stream.prepare(request)
    try:
        for i in range(len(body)):
            await stream.write(body[i:i + 1])
            await asyncio.sleep(every_s)
    except ConnectionError:  # the client gave up (as it should): nothing more to send
        return stream
    await stream.write_eof()
    return stream
