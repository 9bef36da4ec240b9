"""A file sent to `/upload/image` straight from disk, never held in memory, read once.

A 4K float plate is about 100 MB a frame. Reading it into memory to build the multipart body
would hold one frame per concurrent upload (twice, with the encoding). Here the multipart body
is a stream of known length (preamble, the file, epilogue) that the transport sends as it goes:
- on a plain connection (core/comfy/plain_http.py) the file part goes by `socket.sendfile`, so
  the kernel moves it from the page cache to the socket without Python copying a byte (where
  the OS has no sendfile, Windows, one reused 1 MB buffer is filled and sent, no allocation per
  chunk);
- over TLS or a proxy (urllib3) the stream is iterated in 1 MB chunks.

Nothing is hashed on the way: measured with `bench --transfer`, sha256 (about 1 GB/s on one
core) was what bounded an upload, and the hash decided nothing, since a file that was never seen
must be sent to learn its hash. Deduplication is by file version, before anything is read
(core/scheduler/transfer.py), and the server's own rule dedups by content: ComfyUI compares a
clashing name's sha256 with the upload and keeps one copy (server.py, `compare_image_hash`).

The file is checked against the version it was opened as (size and mtime) before and after it
is sent: a plate rewritten or truncated mid-send is `PlateReadError`, raised at once (a body cut
short would leave the server waiting for bytes that never come), as is a plate that cannot be
opened. Neither is a server's fault, so neither is an OSError the transport would call a lost
connection.
"""

from __future__ import annotations

import io
import os
import socket
import uuid
from typing import Iterator, Mapping, Optional, Tuple

from nuke_comfyui.core.errors import NukeComfyError

CHUNK = 1 << 20


class PlateReadError(NukeComfyError):
    """The file being uploaded could not be read, or changed while it was sent (a local problem)."""


class UploadFile:
    """A file on disk to upload, as the version (size, mtime) it had when this was made."""

    def __init__(self, path: str, chunk: int = CHUNK) -> None:
        self.path = path
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise _unreadable(path, exc) from None
        self.size, self.mtime_ns = stat.st_size, stat.st_mtime_ns
        self.chunk = chunk
        self.bytes_read = 0  # over every pass (a retried request reads again)

    def send_to(self, sock: socket.socket, before: bytes = b"") -> None:
        """Send `before`, then the file's `size` bytes on `sock` (kernel sendfile where the OS has it).
        The file is opened and checked first: nothing goes out for a plate that cannot be read."""
        with self._open() as fh:
            if before:
                sock.sendall(before)
            if hasattr(os, "sendfile"):
                sent = sock.sendfile(fh, 0, self.size) if self.size else 0
            else:
                sent = self._send_buffered(fh, sock)
            self.bytes_read += sent
            self._check_unchanged(fh, sent)

    def _send_buffered(self, fh: io.BufferedReader, sock: socket.socket) -> int:
        """Without os.sendfile: one reused buffer filled from the file and sent, chunk by chunk."""
        buffer = bytearray(min(self.chunk, max(self.size, 1)))
        view = memoryview(buffer)
        sent = 0
        while sent < self.size:
            count = fh.readinto(view[:min(len(buffer), self.size - sent)])
            if not count:
                break
            sock.sendall(view[:count])
            sent += count
        return sent

    def __iter__(self) -> Iterator[bytes]:
        """The file in chunks, for a transport that sends what it is given (urllib3: TLS, proxies)."""
        with self._open() as fh:
            sent = 0
            while sent < self.size:
                block = fh.read(min(self.chunk, self.size - sent))
                if not block:
                    break
                sent += len(block)
                self.bytes_read += len(block)
                yield block
            self._check_unchanged(fh, sent)

    def _open(self) -> io.BufferedReader:
        """The file, opened and checked; the caller closes it (`with`). Only the open's OSError is a
        plate problem: the socket's, later, are the connection's."""
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - the caller's `with` closes it
        except OSError as exc:
            raise _unreadable(self.path, exc) from None
        try:
            self._check_unchanged(fh, None)
        except BaseException:
            fh.close()
            raise
        return fh

    def _check_unchanged(self, fh: io.BufferedReader, sent: Optional[int]) -> None:
        """Refuse a file that is not (or no longer) the version this upload was made for."""
        stat = os.fstat(fh.fileno())
        short = sent is not None and sent != self.size
        if short or stat.st_size != self.size or stat.st_mtime_ns != self.mtime_ns:
            now = f"{stat.st_size} bytes" if stat.st_size != self.size else "rewritten"
            raise PlateReadError(
                f"{self.path} changed while it was being sent ({self.size} bytes -> {now}); something is "
                "still writing it: let that finish (or render again), then the frame is sent anew")


class MultipartStream:
    """multipart/form-data of text fields and one file field, as a re-sendable stream of known length."""

    def __init__(self, fields: Mapping[str, str], field: str, filename: str, mime: str, upload: UploadFile) -> None:
        self.boundary = uuid.uuid4().hex
        self.upload = upload
        parts = []
        for name, value in fields.items():
            parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
                         f"{value}\r\n")
        parts.append(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(field)}"; '
                     f'filename="{_quoted(filename)}"\r\nContent-Type: {mime}\r\n\r\n')
        self.preamble = "".join(parts).encode("utf-8")
        self.epilogue = f"\r\n--{self.boundary}--\r\n".encode("ascii")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.preamble) + self.upload.size + len(self.epilogue)

    def send_to(self, sock: socket.socket, head: bytes = b"") -> None:
        """Send `head` (the request line and headers) and the whole body on `sock`: three writes."""
        self.upload.send_to(sock, head + self.preamble)
        sock.sendall(self.epilogue)

    def __iter__(self) -> Iterator[bytes]:
        yield self.preamble
        yield from self.upload
        yield self.epilogue


def _quoted(text: str) -> str:
    """A header parameter value: quotes and line breaks escaped (RFC 7578 section 2)."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _unreadable(path: str, exc: OSError) -> PlateReadError:
    return PlateReadError(f"cannot read {path} to upload it ({exc.strerror or exc}); check that the file exists "
                          "and this user may read it")


def streamed_files(files: Mapping[str, Tuple[str, object, str]],
                   data: Optional[Mapping[str, str]]) -> Optional[MultipartStream]:
    """The multipart stream for a request whose one file is an UploadFile (None: encode in memory)."""
    streamed = [(field, spec) for field, spec in files.items() if isinstance(spec[1], UploadFile)]
    if len(streamed) != 1 or len(files) != 1:
        return None
    field, (filename, upload, mime) = streamed[0]
    assert isinstance(upload, UploadFile)
    return MultipartStream(dict(data or {}), field, filename, mime, upload)
