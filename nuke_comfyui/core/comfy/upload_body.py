"""A file sent to `/upload/image` straight from disk, in chunks, hashed as it goes.

A 4K float plate is about 100 MB a frame. Reading it into memory to build the multipart body
would hold one frame per concurrent upload (twice, with the encoding), and hashing it first for
deduplication would read it from disk twice. Here the multipart body is a stream of known length
(preamble, the file in 1 MB chunks, epilogue) that the transport sends as it reads, and the
file's sha256 is computed from those same chunks. Reading and hashing run on a helper thread a
few chunks ahead of the sender (at most AHEAD chunks in memory), so disk, hash and socket overlap
instead of adding up. A retried request reads the file again and starts the hash afresh;
`digest` is only given once a pass sent the whole file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
import uuid
from typing import Any, Iterator, List, Mapping, Optional, Tuple

CHUNK = 1 << 20
AHEAD = 4  # chunks read ahead of the socket: the most one upload holds in memory, besides the one sent
_END = object()


class UploadFile:
    """A file on disk to upload; iterating it reads it once, in chunks, hashing as it goes."""

    def __init__(self, path: str, chunk: int = CHUNK) -> None:
        self.path = path
        self.size = os.stat(path).st_size
        self.chunk = chunk
        self._digest: Optional[str] = None
        self.bytes_read = 0  # over every pass (a retry reads again)

    def __iter__(self) -> Iterator[bytes]:
        self._digest = None
        blocks: queue.Queue = queue.Queue(maxsize=AHEAD)
        stop = threading.Event()
        outcome: List[Any] = []  # [sha256 hex, bytes] or [exception]
        reader = threading.Thread(target=self._read, args=(blocks, stop, outcome), daemon=True,
                                  name="nuke-comfyui-upload-read")
        reader.start()
        try:
            while True:
                block = blocks.get()
                if block is _END:
                    break
                yield block
        finally:
            stop.set()
            while reader.is_alive():  # unblock a reader waiting for room, then let it end
                with contextlib.suppress(queue.Empty):
                    blocks.get(timeout=0.05)
            reader.join()
        if len(outcome) == 1:
            raise outcome[0]
        digest, sent = outcome
        if sent != self.size:
            raise OSError(f"{self.path} changed size while it was being sent ({self.size} -> {sent} bytes)")
        self._digest = digest

    def _read(self, blocks: queue.Queue, stop: threading.Event, outcome: List[Any]) -> None:
        """Helper thread: read and hash the file a few chunks ahead of the sender."""
        sha = hashlib.sha256()
        sent = 0
        try:
            with open(self.path, "rb") as fh:
                for block in iter(lambda: fh.read(self.chunk), b""):
                    if stop.is_set():
                        return
                    sha.update(block)
                    sent += len(block)
                    self.bytes_read += len(block)
                    blocks.put(block)
            outcome[:] = [sha.hexdigest(), sent]
        except OSError as exc:
            outcome[:] = [exc]
        finally:
            if not stop.is_set():
                blocks.put(_END)

    @property
    def digest(self) -> Optional[str]:
        """sha256 of the file, once a pass sent it whole (None before, or if the pass broke off)."""
        return self._digest


class MultipartStream:
    """multipart/form-data of text fields and one file field, as a re-iterable stream of known length."""

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

    def __iter__(self) -> Iterator[bytes]:
        yield self.preamble
        yield from self.upload
        yield self.epilogue


def _quoted(text: str) -> str:
    """A header parameter value: quotes and line breaks escaped (RFC 7578 section 2)."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def streamed_files(files: Mapping[str, Tuple[str, object, str]],
                   data: Optional[Mapping[str, str]]) -> Optional[MultipartStream]:
    """The multipart stream for a request whose one file is an UploadFile (None: encode in memory)."""
    streamed = [(field, spec) for field, spec in files.items() if isinstance(spec[1], UploadFile)]
    if len(streamed) != 1 or len(files) != 1:
        return None
    field, (filename, upload, mime) = streamed[0]
    assert isinstance(upload, UploadFile)
    return MultipartStream(dict(data or {}), field, filename, mime, upload)
