"""A tiny scripted HTTP server on 127.0.0.1 for the client's error-typing tests.

The simulator answers like a healthy ComfyUI; these tests need the opposite (garbage, plain-text
500s, missing routes, dropped connections), so each test scripts the exact answers it wants.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

Answer = Tuple[int, str, bytes]
Route = Union[Answer, Callable[["Request"], Optional[Answer]]]


class Request(SimpleNamespace):
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes


def json_answer(value: Any, status: int = 200) -> Answer:
    return status, "application/json", json.dumps(value).encode()


def text_answer(text: str, status: int = 200) -> Answer:
    return status, "text/plain", text.encode()


class FakeServer:
    """`routes[(method, path)]` is an answer or a function of the request (None = drop the connection)."""

    def __init__(self) -> None:
        self.routes: Dict[Tuple[str, str], Route] = {}
        self.requests: List[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(method=self.command, path=self.path, headers=dict(self.headers), body=body)
                fake.requests.append(request)
                route = fake.routes.get((self.command, self.path.split("?")[0]))
                if route is None:
                    answer: Optional[Answer] = text_answer("404: Not Found", 404)
                elif callable(route):
                    answer = route(request)
                else:
                    answer = route
                if answer is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, content_type, data = answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.split("?")[0] == path)
