"""safe_removal: never an interrupt that could stop someone else's prompt, and honest leftovers."""

from __future__ import annotations

from typing import Any, List, Optional

from nuke_comfyui.core.comfy.capabilities import from_version
from nuke_comfyui.core.comfy.types import QueueItem, QueueSnapshot
from nuke_comfyui.core.errors import ServerError
from nuke_comfyui.core.scheduler.safe_removal import remove


class FakeClient:
    name = "gpu01"

    def __init__(self, version: Optional[str], running: List[str], pending: List[str],
                 queue_error: bool = False, found: Optional[str] = None) -> None:
        self.capabilities = None if version is None else from_version("gpu01", version)
        self.running, self.pending = running, pending
        self.queue_error, self.found = queue_error, found
        self.calls: List[Any] = []

    def delete_pending(self, ids: List[str]) -> None:
        self.calls.append(("delete", list(ids)))
        self.pending = [p for p in self.pending if p not in ids]

    def interrupt(self, pid: str) -> None:
        self.calls.append(("interrupt", pid))

    def queue(self) -> QueueSnapshot:
        if self.queue_error:
            raise ServerError("GET /queue failed with HTTP 500", "gpu01", status=500)
        item = lambda pid: QueueItem(number=1, prompt_id=pid, client_id=None)  # noqa: E731
        return QueueSnapshot(running=[item(p) for p in self.running], pending=[item(p) for p in self.pending])

    def find_prompt(self, pid: str) -> Optional[str]:
        self.calls.append(("find", pid))
        return self.found


def test_targeted_servers_delete_then_interrupt_every_id() -> None:
    client = FakeClient("0.8.2", running=["a"], pending=["b"])
    remove(client, ["a", "b"])
    assert client.calls == [("delete", ["a", "b"]), ("interrupt", "a"), ("interrupt", "b")]


def test_untargeted_server_running_someone_else_gets_no_interrupt() -> None:
    client = FakeClient("0.3.45", running=["theirs"], pending=["b"])
    result = remove(client, ["b"])
    assert ("interrupt", "theirs") not in client.calls and all(c[0] != "interrupt" for c in client.calls)
    assert result.states == {"b": "gone"} and not result.left_running


def test_untargeted_server_running_ours_is_interrupted() -> None:
    client = FakeClient("0.3.57", running=["a"], pending=[])
    result = remove(client, ["a"])
    assert client.calls[-1] == ("interrupt", "a") and result.interrupted == ["a"]


def test_unreadable_queue_leaves_the_prompt_to_finish_and_says_so() -> None:
    client = FakeClient("0.3.40", running=["a"], pending=[], queue_error=True)
    result = remove(client, ["a"])
    assert all(c[0] != "interrupt" for c in client.calls)
    assert len(result.left_running) == 1
    assert "gpu01" in result.left_running[0] and "0.3.40" in result.left_running[0]
    assert "left to finish" in result.left_running[0]


def test_an_id_the_server_replaced_is_found_by_its_mark() -> None:
    client = FakeClient("0.3.40", running=["server-made"], pending=[], found="server-made")
    result = remove(client, ["ours"])
    assert ("find", "ours") in client.calls and client.calls[-1] == ("interrupt", "server-made")
    assert result.interrupted == ["ours"]


def test_unknown_capabilities_take_the_safe_path() -> None:
    client = FakeClient("not-a-version", running=["theirs"], pending=[])
    remove(client, ["ours"])
    assert all(c[0] != "interrupt" for c in client.calls)
