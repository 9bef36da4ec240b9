"""Where a job's results land, and getting them there atomically.

Layout (one image sequence per variation, and per output node when the workflow has several):

    <output_dir>/<label>_<group_id[:8]>/var<NN>/<label>_var<NN>[_<node>][_<k>].<frame:04d>.<ext>

- `NN` is the variation number starting at 01 (`core/variation_names.py`; a group folder made
  before the rename holds `v<NN>` folders and keeps them, so its sequences stay whole); `<node>`
  is the output node id, added only when the workflow has several output nodes; `<k>` numbers
  extra images of one output (batches) from 1 (the first image keeps the plain name so each
  sequence stays contiguous);
- the frame number is the input frame, so frame 1001 of the plate is frame 1001 of the result;
  renders without an input frame (seed variations only) are written without a frame number.

The group folder carries the group id, so two groups never share a file; a marker file inside
it guards the 8-character prefix (a clash falls back to the full id). Files are written to a
temporary name in the destination folder and renamed into place. Names sent by servers are
never used for local paths: we only *read* from them (downloaded via the client, or copied from
the shared output folder after checking the source stays inside that folder).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from nuke_comfyui.core.comfy.outputs import safe_join, safe_parts
from nuke_comfyui.core.errors import UnsafePathError
from nuke_comfyui.core.result_types import result_extension
from nuke_comfyui.core.temp_files import create_beside
from nuke_comfyui.core.variation_names import legacy_folder_names, variation_name

MARKER = ".nuke_comfyui_group"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_label(label: str) -> str:
    """A label usable in file names on every OS (letters, digits, . _ -)."""
    cleaned = _UNSAFE.sub("_", label).strip("._") or "render"
    return cleaned[:64]


def group_folder(output_dir: str, label: str, group_id: str) -> Path:
    """The group's own folder inside output_dir (created, and claimed with a marker file).

    The marker appears whole (written aside, then hard-linked into place, which fails if it
    exists), so processes of one group starting at the same moment (farm tasks) never read a
    half-written claim and take the folder for another group's.
    """
    root = Path(output_dir)
    for name in (f"{safe_label(label)}_{group_id[:8]}", f"{safe_label(label)}_{group_id}"):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / MARKER
        if _claim(marker, group_id) or marker.read_text(encoding="utf-8").strip() == group_id:
            return folder
    raise UnsafePathError(
        f"both {root / name} and its short form belong to another job group; choose another output folder"
    )


def _claim(marker: Path, group_id: str) -> bool:
    """Create `marker` holding group_id, atomically; False when it already exists."""
    aside = marker.with_name(f"{marker.name}.{uuid.uuid4().hex}")
    aside.write_text(group_id, encoding="utf-8")
    try:
        os.link(aside, marker)
        return True
    except FileExistsError:
        return False
    except OSError:  # a filesystem without hard links: exclusive create (a reader may see it empty)
        try:
            with open(marker, "x", encoding="utf-8") as fh:
                fh.write(group_id)
            return True
        except FileExistsError:
            return False
    finally:
        aside.unlink()


@dataclass(frozen=True)
class OutputLayout:
    """Naming of one group's result files."""

    folder: Path
    label: str
    output_nodes: Sequence[str] = ()  # the workflow's output node ids (suffix added when several)
    legacy_names: Optional[bool] = None  # None: read from the folder (old `v01` folders already there)

    def __post_init__(self) -> None:
        if self.legacy_names is None:
            object.__setattr__(self, "legacy_names", legacy_folder_names(self.folder))

    def variation_name(self, variation: int) -> str:
        return variation_name(variation, legacy=bool(self.legacy_names))

    def variation_dir(self, variation: int) -> Path:
        return self.folder / self.variation_name(variation)

    def stem(self, variation: int, node_id: str, k: int) -> str:
        stem = f"{safe_label(self.label)}_{self.variation_name(variation)}"
        if len(self.output_nodes) > 1:
            stem += f"_{safe_label(str(node_id))}"
        if k:
            stem += f"_{k}"
        return stem

    def file_name(self, variation: int, node_id: str, k: int, frame: Optional[int], ext: str) -> str:
        stem = self.stem(variation, node_id, k)
        return f"{stem}.{frame:04d}{ext}" if frame is not None else f"{stem}{ext}"

    def pattern(self, variation: int, node_id: str, ext: str, k: int = 0) -> str:
        """Printf-style sequence path for a Read node ("...shot_var01.%04d.png")."""
        return str(self.variation_dir(variation) / f"{self.stem(variation, node_id, k)}.%04d{ext}")


def wanted_outputs(outputs: Sequence[Any], output_nodes: Sequence[str]) -> List[Any]:
    """The OutputFiles of the workflow's output nodes (every saved file when nodes are unknown)."""
    chosen = [f for f in outputs if not output_nodes or str(f.node_id) in output_nodes]
    if not output_nodes:
        chosen = [f for f in chosen if getattr(f, "type", "output") == "output"] or chosen
    return chosen


def collect(
    layout: OutputLayout,
    *,
    variation: int,
    frame: Optional[int],
    outputs: Sequence[Any],
    client: Any,
    server: Any,
    transfer: str = "upload",
    max_bytes: Optional[int] = None,
) -> List[str]:
    """Bring a finished job's output files into the output folder; returns the local paths.

    A job of one frame (or none); a chunk of several frames is collected by batch_plan.py. Every
    name is checked before anything is fetched; `max_bytes` caps each file (decoded) when set.
    """
    dest_dir = layout.variation_dir(variation)
    chosen = wanted_outputs(outputs, layout.output_nodes)
    for item in chosen:  # all of them before any is fetched: a refused name writes nothing at all
        checked_name(server, item, dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    per_node: Dict[str, int] = {}
    paths: List[str] = []
    for item in chosen:
        node = str(item.node_id)
        k = per_node.get(node, 0)
        per_node[node] = k + 1
        name = layout.file_name(variation, node, k, frame, extension(item))
        paths.append(fetch(item, dest_dir, name, client=client, server=server, transfer=transfer,
                           max_bytes=max_bytes))
    return paths


def extension(item: Any) -> str:
    """The lower-case extension of a server's output file (checked_name has refused any other)."""
    ext = os.path.splitext(str(item.filename))[1].lower() or ".bin"
    return ext if re.fullmatch(r"\.[a-z0-9]{1,8}", ext) else ".bin"


def fetch(item: Any, dest_dir: Path, name: str, *, client: Any, server: Any, transfer: str,
          max_bytes: Optional[int] = None) -> str:
    """One output file into `dest_dir/name`: copied from the shared output folder when the server
    has one (and the file is there), else downloaded; the server's name is checked either way, and
    the file is at most `max_bytes` (when set) as written."""
    checked_name(server, item, dest_dir)
    source = shared_source(server, item) if transfer == "shared" else None
    if source is not None and source.is_file():
        _check_size(server, item, source.stat().st_size, max_bytes)
        atomic_copy(source, dest_dir / name)
        return str(dest_dir / name)
    if max_bytes is not None:
        return str(client.download(item, dest_dir, name, max_bytes=max_bytes))
    return str(client.download(item, dest_dir, name))


def _check_size(server: Any, item: Any, size: int, max_bytes: Optional[int]) -> None:
    if max_bytes is not None and size > max_bytes:
        raise UnsafePathError(f"server {getattr(server, 'name', 'server')} wrote an output of {size >> 20} MB "
                              f"({item.filename!r}), more than the {max_bytes >> 20} MB a result may be; raise "
                              "max_result_mb in the settings if your workflows make files that large")


def checked_name(server: Any, item: Any, dest_dir: Path) -> None:
    """The same check of a server-sent output name in every transfer mode (also what /view is asked
    for): a name with a path, `..`, a drive letter or an unknown type makes the server misbehaving.
    Names only: the file is written under our own name, and that path is checked where it is."""
    kind = str(getattr(item, "type", "output") or "output")
    try:
        if kind not in ("output", "temp"):
            raise UnsafePathError(f"server sent an output of type {kind!r}; expected output or temp")
        safe_parts(str(item.subfolder or ""), str(item.filename), dest_dir)
        try:
            result_extension(str(item.filename))
        except ValueError as exc:
            raise UnsafePathError(f"server sent an output named {exc}; refusing to write it") from None
    except UnsafePathError as exc:
        name = getattr(server, "name", "server")
        raise UnsafePathError(f"server {name} is misbehaving: {exc}; nothing was fetched or written") from None


def shared_source(server: Any, item: Any) -> Optional[Path]:
    """Where a shared-storage server's output file is seen locally, or None if it has no mapping.

    The server's subfolder and filename go through the client layer's sanitiser, so nothing the
    server sends can make us read outside its output (or temp) folder.
    """
    dir_local = getattr(server, "dir_local", "")
    if not dir_local:
        return None
    kind = str(getattr(item, "type", "output") or "output")
    if kind not in ("output", "temp"):
        raise UnsafePathError(
            f"server {server.name} reported an output of type {kind!r}; expected output or temp"
        )
    return safe_join(Path(dir_local) / kind, str(item.subfolder or ""), str(item.filename))


def atomic_copy(source: Path, target: Path) -> None:
    """Copy to a temporary file beside `target`, then rename it into place (the umask applies)."""
    fd, tmp = create_beside(str(target.parent), ".part-")
    os.close(fd)
    try:
        shutil.copyfile(str(source), tmp)
        os.replace(tmp, str(target))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
