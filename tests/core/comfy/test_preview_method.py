"""A process that can never show a live preview asks for none with every prompt it queues.

ComfyUI 0.5.0+ reads `extra_data.preview_method` per prompt (upstream dbd33045); older servers keep
the key without reading it. The request must travel beside our prompt-id mark (prompt_marks.py),
which an old server's own ids depend on.
"""

from __future__ import annotations

import json
from typing import Any, List

from comfykit import server_config
from fake_http import FakeServer, json_answer

from nuke_comfyui.core.comfy import prompt_marks
from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.preview_method import WHEN_WATCHED, extra_data_for, prompt_extra_data

OURS = "6f1c0c1e-0000-4000-8000-000000000001"


def test_only_a_process_without_previews_asks_for_something() -> None:
    assert prompt_extra_data(True) == {}  # the server's own --preview-method stands
    assert prompt_extra_data(False) == {"preview_method": "none"}


def test_a_gui_session_asks_per_prompt_whether_someone_watches() -> None:
    watching = [False]
    assert extra_data_for(WHEN_WATCHED, lambda: watching[0]) == {"preview_method": "none"}  # panel hidden
    watching[0] = True
    assert extra_data_for(WHEN_WATCHED, lambda: watching[0]) == {}  # a Results panel shows previews
    assert extra_data_for(False, lambda: True) == {"preview_method": "none"}  # the CLI never shows one
    assert extra_data_for(True, lambda: False) == {}  # the monitor keeps the server's setting


def test_the_request_travels_beside_the_prompt_id_mark(fake_server: FakeServer) -> None:
    posts: List[Any] = []

    def answer(request: Any) -> Any:
        posts.append(json.loads(request.body))
        return json_answer({"prompt_id": OURS, "number": 1, "node_errors": {}})

    fake_server.routes[("POST", "/prompt")] = answer  # type: ignore[assignment]
    client = ComfyClient(server_config(fake_server.url))  # type: ignore[arg-type]
    client.submit({}, client_id="c", prompt_id=OURS, extra_data=prompt_extra_data(False))
    client.submit({}, client_id="c", prompt_id=OURS, extra_data=prompt_extra_data(True))
    assert posts[0]["extra_data"] == {"preview_method": "none", prompt_marks.MARK_KEY: OURS}
    assert posts[1]["extra_data"] == {prompt_marks.MARK_KEY: OURS}
