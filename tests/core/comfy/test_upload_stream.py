"""Uploads streamed from disk: read once (by the kernel's sendfile on plain HTTP), never held whole, nothing
hashed on the way; a plate that changes or vanishes is a clear local error (core/comfy/upload_body.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import urllib3

from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.comfy.transport import Transport
from nuke_comfyui.core.comfy.upload_body import MultipartStream, PlateReadError, UploadFile
from nuke_comfyui.core.config import ServerConfig


def big_file(tmp_path: Path, size: int = 3 * (1 << 20) + 17) -> Path:
    path = tmp_path / "plate.0001.exr"
    path.write_bytes(os.urandom(size))
    return path


@pytest.mark.parametrize("lean", [True, False])
def test_a_streamed_upload_lands_whole_and_is_read_once(lean: bool, sim_cluster: Any, tmp_path: Path) -> None:
    """Both transports: the lean plain-HTTP pool, and urllib3 (TLS and proxies)."""
    cluster = sim_cluster(1)
    path = big_file(tmp_path)
    transport = Transport(cluster.urls[0])
    if not lean:
        transport._plain, transport._pool = False, urllib3.connection_from_url(cluster.urls[0])
    client = ComfyClient(ServerConfig(name="s", url=cluster.urls[0]), transport=transport)
    upload = UploadFile(str(path))
    uploaded = client.upload_image(upload, "plate.0001.exr", subfolder="shot")
    stored = Path(cluster.servers[0].base_dir) / "input" / "shot" / uploaded.name
    assert stored.read_bytes() == path.read_bytes()
    assert upload.bytes_read == path.stat().st_size  # one read of the file
    client.close()


def test_the_plain_pool_sends_the_file_by_sendfile_and_else_from_one_reused_buffer(
        sim_cluster: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """Linux and macOS: socket.sendfile (no byte through Python); without os.sendfile (Windows): readinto."""
    import socket

    cluster = sim_cluster(1)
    path = big_file(tmp_path)
    client = ComfyClient(ServerConfig(name="s", url=cluster.urls[0]))
    moved: list = []
    real_sendfile = socket.socket.sendfile

    def counting_sendfile(self: Any, file: Any, offset: int = 0, count: Any = None) -> int:
        moved.append(real_sendfile(self, file, offset, count))
        return moved[-1]

    monkeypatch.setattr(socket.socket, "sendfile", counting_sendfile)
    first = client.upload_image(UploadFile(str(path)), "a.exr")
    assert moved == [path.stat().st_size]
    monkeypatch.delattr(os, "sendfile")
    second = UploadFile(str(path), chunk=1 << 16)
    client.upload_image(second, "b.exr")
    assert moved == [path.stat().st_size] and second.bytes_read == path.stat().st_size
    for name in (first.name, "b.exr"):
        assert (Path(cluster.servers[0].base_dir) / "input" / name).read_bytes() == path.read_bytes()
    client.close()


def test_the_stream_length_is_what_it_sends_and_names_are_escaped(tmp_path: Path) -> None:
    path = big_file(tmp_path, 1000)
    stream = MultipartStream({"subfolder": "s"}, "image", 'a"b\r\n.exr', "image/x-exr", UploadFile(str(path)))
    body = b"".join(stream)
    assert len(body) == len(stream)
    assert b'filename="a%22b%0D%0A.exr"' in body and b"\r\n\r\ns\r\n" in body


def test_a_file_that_changes_while_sent_is_refused(tmp_path: Path) -> None:
    path = big_file(tmp_path, 10)
    upload = UploadFile(str(path))
    path.write_bytes(b"longer than before")
    with pytest.raises(PlateReadError, match=r"plate.0001.exr changed while it was being sent \(10 bytes -> 18 "
                                             r"bytes\); something is still writing it"):
        b"".join(upload)
    same_size = UploadFile(str(path))
    os.utime(path, ns=(0, 12345))  # rewritten in place: same size, another version
    with pytest.raises(PlateReadError, match=r"\(18 bytes -> rewritten\)"):
        b"".join(same_size)


@pytest.mark.parametrize("lean", [True, False])
def test_a_plate_that_changes_or_vanishes_fails_at_once_and_is_not_the_servers_fault(
        lean: bool, sim_cluster: Any, tmp_path: Path) -> None:
    """A body cut short would leave the server waiting for bytes that never come, and an OSError here
    would read as a lost connection (the server left out); both transports raise PlateReadError
    before the body is sent, and the connection is not reused."""
    cluster = sim_cluster(1)
    path = big_file(tmp_path)
    transport = Transport(cluster.urls[0])
    if not lean:
        transport._plain, transport._pool = False, urllib3.connection_from_url(cluster.urls[0])
    client = ComfyClient(ServerConfig(name="s", url=cluster.urls[0]), transport=transport, retries=0)
    shrunk = UploadFile(str(path))
    path.write_bytes(b"short")
    with pytest.raises(PlateReadError, match="changed while it was being sent"):
        client.upload_image(shrunk, "a.exr")
    gone = UploadFile(str(path))
    path.unlink()
    with pytest.raises(PlateReadError, match=r"cannot read .*plate.0001.exr to upload it \(No such file"):
        client.upload_image(gone, "a.exr")
    with pytest.raises(PlateReadError, match="cannot read"):
        UploadFile(str(path))
    assert client.system_stats().comfyui_version  # the server is fine and still answers
    assert not (Path(cluster.servers[0].base_dir) / "input" / "a.exr").exists()
    client.close()


def test_the_same_file_version_from_another_process_is_kept_once_by_the_server(sim_cluster: Any,
                                                                                tmp_path: Path) -> None:
    """Uploads are named after the file version; a second process sending the same version gets the
    same name back and the server keeps one copy (ComfyUI's compare_image_hash, modelled by the
    simulator); a rewritten plate is another version, sent under another name."""
    from nuke_comfyui.core.scheduler.transfer import InputTransfer

    cluster = sim_cluster(1)
    path = big_file(tmp_path, 1000)
    server = ServerConfig(name="s", url=cluster.urls[0])
    client = ComfyClient(server)
    first = InputTransfer().image_value(str(path), server, client, "upload")
    again = InputTransfer().image_value(str(path), server, client, "upload")  # another process's cache
    staged = Path(cluster.servers[0].base_dir) / "input" / "nuke_comfyui"
    assert again == first and len(list(staged.iterdir())) == 1
    path.write_bytes(os.urandom(1000))
    os.utime(path, ns=(0, 1))
    rewritten = InputTransfer().image_value(str(path), server, client, "upload")
    assert rewritten != first and not rewritten.endswith(" (1).exr")
    assert (staged.parent / rewritten).read_bytes() == path.read_bytes()
    client.close()


def test_the_transfer_reads_each_plate_once_and_never_one_already_on_the_share(sim_cluster: Any, tmp_path: Path,
                                                                                monkeypatch: Any) -> None:
    from nuke_comfyui.core.scheduler import transfer as module

    reads: list = []
    real_open = open

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "r" in mode and str(file).endswith(".exr"):
            reads.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    cluster = sim_cluster(1)
    path = big_file(tmp_path)
    server = ServerConfig(name="s", url=cluster.urls[0])
    client = ComfyClient(server)
    staging = module.InputTransfer()
    first = staging.image_value(str(path), server, client, "upload")
    assert staging.image_value(str(path), server, client, "upload") == first
    assert reads == [str(path)]  # opened once and sent; the second job reuses it
    share = Path(cluster.servers[0].base_dir)
    on_share = share / "input" / "plates" / "p.0001.exr"
    on_share.parent.mkdir(parents=True)
    on_share.write_bytes(b"x")
    shared = ServerConfig(name="s", url=cluster.urls[0], transfer="shared", dir_local=str(share),
                          dir_remote="/comfy")
    reads.clear()
    assert staging.image_value(str(on_share), shared, client) == "plates/p.0001.exr"
    assert reads == []  # already where the server reads it: not even hashed
    client.close()


def test_a_frame_over_the_servers_upload_limit_is_refused_before_sending(tmp_path: Path) -> None:
    """ComfyUI answers 413 above max_upload_size (100 MiB by default; measured on a real 0.33)."""
    from nuke_comfyui.core.scheduler.failures import Action, classify_submit_error
    from nuke_comfyui.core.scheduler.transfer import InputTransfer, UploadTooLarge

    class Small:
        sent: list = []

        def features(self) -> dict:
            return {"max_upload_size": 1000}

        def upload_image(self, data: Any, name: str, **_: Any) -> Any:
            self.sent.append(name)
            raise AssertionError("nothing may be sent")

    path = big_file(tmp_path, 4000)
    with pytest.raises(UploadTooLarge, match=r"plate.0001.exr is 0.0 MB, over gpu1's upload limit of 0.0 MB") as err:
        InputTransfer().image_value(str(path), ServerConfig(name="gpu1"), Small(), "upload")
    assert classify_submit_error(err.value).action is Action.REQUEUE and not Small.sent
