"""Rendering: what a Read reads, what a Write writes, and the main-thread handoff.

Sources: Foundry's Read, Write and Invert node reference (frame_mode "start at"/"offset", on_error,
channels rgb/rgba, per-type datatype such as PNG "8 bit"/"16 bit"), nuke.execute (start, end,
incr, views) and nuke.executeInMainThread / executeInMainThreadWithResult. A Write really writes
PNG (8- or 16-bit) and EXR (half or float) files, RGB or RGBA, converted from the working space as
its colorspace says (_pixels.py); a CurveTool runs its analysis (_analysis.py). What the fake cannot
render (other formats, proxy mode, several views into one file name) raises.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ._state import not_modelled, require_main_thread, state

if TYPE_CHECKING:
    from ._nodes import Node


def frame_path(pattern: str, frame: int) -> str:
    pattern = re.sub(r"#+", lambda m: f"%0{len(m.group(0))}d", pattern)
    return re.sub(r"%0?(\d*)d", lambda m: str(frame).zfill(int(m.group(1) or 0)), pattern)


def image_size(path: str) -> Optional[Tuple[int, int]]:
    from ._pixels import image_size as size_of

    return size_of(path)


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


def read_image(read: Node, frame: int) -> Any:
    """A Read's frame as float RGBA in the working space (its colorspace or the default for the file)."""
    from ._nodes import project_path
    from ._pixels import read_file, to_working

    file_frame = frame - read_frame_offset(read)
    first, last = int(read["first"].value()), int(read["last"].value())
    file_frame = min(max(file_frame, first), last)   # before/after: hold
    path = frame_path(project_path(str(read["file"].value())), file_frame)
    if not os.path.isfile(path):
        fmt = read["format"].value()
        if read["on_error"].value() == "black":
            import numpy

            return numpy.zeros((fmt.height(), fmt.width(), 4), numpy.float32)
        raise RuntimeError(f"Read error: {path}: No such file or directory")
    pixels, kind = read_file(path)
    return to_working(pixels, str(read["colorspace"].value()), kind, bool(read["raw"].value()))


def render_image(node: Optional[Node], frame: int) -> Any:
    """The RGBA float image (working space) a node produces at a frame (see _pixels.render)."""
    from ._pixels import render

    return render(node, frame)


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
    if node is not None and node.Class() == "CurveTool":
        from ._analysis import execute_curve_tool

        execute_curve_tool(node, int(start), int(end), int(incr))
        return
    if node is None or node.Class() != "Write":
        raise ValueError(f"{nameOrNode}: execute needs a Write or CurveTool node")
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
    if file_type not in ("png", "exr"):
        raise not_modelled(f"writing {file_type or 'files without a type'}")
    state().executed.append((node.name(), int(start), int(end)))
    for frame in range(int(start), int(end) + 1, int(incr)):
        path = Path(project_path(frame_path(pattern, frame)).replace("%V", chosen[0]))
        if not path.parent.is_dir():
            if not node["create_directories"].value():
                raise RuntimeError(f"{node.name()}: Can't write {path}: No such file or directory")
            path.parent.mkdir(parents=True, exist_ok=True)
        write_frame(node, path, render_image(node.input(0), frame), file_type)


def write_frame(write: Node, path: Path, image: Any, file_type: str) -> None:
    """One frame of a Write: converted from the working space, then encoded as its knobs say."""
    from ._pixels import from_working, write_exr, write_png

    alpha = str(write["channels"].value()) in ("rgba", "all")
    datatype = str(write["datatype"].value()) if "datatype" in write.knobs() else ""
    kind = "float" if file_type == "exr" else ("int16" if datatype == "16 bit" else "int8")
    pixels = from_working(image, str(write["colorspace"].value()), kind, bool(write["raw"].value()))
    if file_type == "exr":
        compression = str(write["compression"].value()) if "compression" in write.knobs() else "Zip (1 scanline)"
        write_exr(path, pixels, alpha, half=datatype != "32 bit float", compression=compression)
    else:
        write_png(path, pixels, alpha, sixteen=datatype == "16 bit")


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
