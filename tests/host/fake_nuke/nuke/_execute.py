"""Rendering: what a Read reads, what a Write writes, and the main-thread handoff.

Sources: Foundry's Read, Write and Invert node reference (frame_mode "start at"/"offset", on_error,
channels rgb/rgba, per-type datatype such as PNG "8 bit"/"16 bit"), nuke.execute (start, end,
incr, views) and nuke.executeInMainThread / executeInMainThreadWithResult. A Write really
writes PNG files: 8- or 16-bit, RGB or RGBA, as its knobs say. What the fake cannot render
(EXR and other formats, proxy mode, several views into one file name) raises.
"""

from __future__ import annotations

import os
import re
import struct
import threading
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ._state import not_modelled, require_main_thread, state

if TYPE_CHECKING:
    from ._nodes import Node

Pixel = Tuple[int, int, int, int]


def frame_path(pattern: str, frame: int) -> str:
    pattern = re.sub(r"#+", lambda m: f"%0{len(m.group(0))}d", pattern)
    return re.sub(r"%0?(\d*)d", lambda m: str(frame).zfill(int(m.group(1) or 0)), pattern)


def image_size(path: str) -> Optional[Tuple[int, int]]:
    from PIL import Image

    if not os.path.isfile(path):
        return None
    with Image.open(path) as image:
        return image.size


def read_frame_offset(read: Node) -> int:
    """How far a Read's frames are shifted: frame_mode 'start at' N or 'offset' K."""
    mode = str(read["frame_mode"].value())
    text = str(read["frame"].value()).strip()
    if not text:
        return 0
    if mode == "start at":
        return int(text) - int(read["first"].value())
    if mode == "offset":
        return int(text)
    raise not_modelled(f"Read frame_mode expression {text!r}")


def _read_image(read: Node, frame: int) -> Any:
    from PIL import Image

    from ._nodes import project_path

    file_frame = frame - read_frame_offset(read)
    first, last = int(read["first"].value()), int(read["last"].value())
    file_frame = min(max(file_frame, first), last)   # before/after: hold
    path = frame_path(project_path(str(read["file"].value())), file_frame)
    if not os.path.isfile(path):
        fmt = read["format"].value()
        if read["on_error"].value() == "black":
            return Image.new("RGBA", (fmt.width(), fmt.height()), (0, 0, 0, 0))
        raise RuntimeError(f"Read error: {path}: No such file or directory")
    return Image.open(path).convert("RGBA")


def render_image(node: Optional[Node], frame: int) -> Any:
    """The RGBA image a node produces at a frame: a Read's file, else a colour from node and frame."""
    from PIL import Image

    from ._nodes import root

    if node is None:
        raise RuntimeError("Write has no input connected")
    if node.Class() == "Read":
        return _read_image(node, frame)
    if node.Class() == "Invert":
        return _invert(node, render_image(node.input(0), frame))
    if node.maxInputs() and node.input(0) is not None:
        return render_image(node.input(0), frame)
    fmt = root().format()
    seed = sum(map(ord, node.name()))
    return Image.new("RGBA", (fmt.width(), fmt.height()), ((frame * 7) % 256, seed % 256, 128, 200))


def _invert(node: Node, image: Any) -> Any:
    """Foundry's Invert: 1 - value in the chosen channels (8-bit here: 255 - value)."""
    from PIL import Image, ImageOps

    if node["disable"].value():
        return image
    if node.input(1) is not None or float(node["mix"].value()) != 1.0:
        raise not_modelled("Invert with a mask input or a mix below 1")
    channels = str(node["channels"].value())
    chosen = {"all": "RGBA", "rgba": "RGBA", "rgb": "RGB", "alpha": "A", "none": ""}[channels]
    bands = [ImageOps.invert(band) if name in chosen else band
             for name, band in zip("RGBA", image.convert("RGBA").split())]
    return Image.merge("RGBA", bands)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path: Path, image: Any, alpha: bool, sixteen: bool) -> None:
    """A PNG (8 or 16 bit per channel, RGB or RGBA); PIL cannot write 16-bit colour PNGs."""
    rgba = image.convert("RGBA")
    width, height = rgba.size
    channels = 4 if alpha else 3
    raw = rgba.tobytes()
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            for value in raw[(y * width + x) * 4:(y * width + x) * 4 + channels]:
                row += struct.pack(">H", value * 257) if sixteen else bytes((value,))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 16 if sixteen else 8, 6 if alpha else 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
    data += _png_chunk(b"IDAT", zlib.compress(b"".join(rows))) + _png_chunk(b"IEND", b"")
    path.write_bytes(data)


def _views() -> List[str]:
    from ._nodes import root

    return str(root()["views"].value()).split() or ["main"]


def views() -> List[str]:
    """The script's views (Foundry: nuke.views), from the root's views knob."""
    return _views()


def execute(nameOrNode: Any, start: int, end: int, incr: int = 1, views: Optional[List[str]] = None,
            continueOnError: bool = False) -> None:
    """Render a Write node's frames to files, following its knobs."""
    from ._nodes import project_path, root, toNode

    require_main_thread("execute")
    node = toNode(nameOrNode) if isinstance(nameOrNode, str) else nameOrNode
    if node is None or node.Class() != "Write":
        raise ValueError(f"{nameOrNode}: execute needs a Write node")
    if root()["proxy"].value():
        raise not_modelled("rendering in proxy mode (proxy file name and scale)")
    pattern = str(node["file"].value())
    if not pattern:
        raise RuntimeError(f"{node.name()}: no filename set")
    chosen = views or _views()
    if len(chosen) > 1 and "%V" not in pattern and "%v" not in pattern:
        raise not_modelled(f"writing views {chosen} into one file name {pattern!r}")
    if any(v not in _views() for v in chosen):
        raise ValueError(f"views {chosen} are not in the script's views {_views()}")
    file_type = str(node["file_type"].value()).strip() or Path(pattern).suffix.lstrip(".").lower()
    if file_type != "png":
        raise not_modelled(f"writing {file_type or 'files without a type'}")
    alpha = str(node["channels"].value()) in ("rgba", "all")
    sixteen = "datatype" in node.knobs() and node["datatype"].value() == "16 bit"
    state().executed.append((node.name(), int(start), int(end)))
    for frame in range(int(start), int(end) + 1, int(incr)):
        path = Path(project_path(frame_path(pattern, frame)).replace("%V", chosen[0]))
        if not path.parent.is_dir():
            if not node["create_directories"].value():
                raise RuntimeError(f"{node.name()}: Can't write {path}: No such file or directory")
            path.parent.mkdir(parents=True, exist_ok=True)
        write_png(path, render_image(node.input(0), frame), alpha, sixteen)


render = execute


# ------------------------------------------------------------------------ main-thread handoff
def executeInMainThread(call: Callable, args: Any = (), kwargs: Optional[Dict[str, Any]] = None) -> None:
    if threading.current_thread() is threading.main_thread():
        raise RuntimeError("fake nuke: executeInMainThread called from the main thread (the plugin must not)")
    if not isinstance(args, tuple):
        args = (args,)
    state().main_queue.put((call, args, dict(kwargs or {}), None))


def executeInMainThreadWithResult(call: Callable, args: Any = (),
                                  kwargs: Optional[Dict[str, Any]] = None) -> Any:
    if threading.current_thread() is threading.main_thread():
        raise RuntimeError("fake nuke: executeInMainThreadWithResult called from the main thread")
    if not state().gui:
        raise RuntimeError("fake nuke: executeInMainThreadWithResult without a GUI (nuke -t) would wait forever: "
                           "there is no event loop to run the call")
    if not isinstance(args, tuple):
        args = (args,)
    box: Dict[str, Any] = {}
    done = threading.Event()
    state().main_queue.put((call, args, dict(kwargs or {}), (box, done)))
    if not done.wait(30):
        raise RuntimeError("fake nuke: main thread did not run the call within 30 s")
    if "error" in box:
        raise box["error"]
    return box.get("result")
