"""ComfyUI's folder rules for one simulated server: input/ output/ temp/ under a base directory.

Kept apart from the HTTP code because LoadImage, SaveImage, `/view` and `/upload/image` all
resolve names the same way ComfyUI's `folder_paths` does (`sub/name`, `name [temp]`), and the
shared-storage tests depend on those files landing exactly where a real server puts them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional, Tuple

KINDS = ("input", "output", "temp")


class Folders:
    """The ComfyUI root of one server and name resolution inside it."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = Path(base_dir).resolve()
        for kind in KINDS:
            (self.base_dir / kind).mkdir(parents=True, exist_ok=True)

    def dir_for(self, kind: Optional[str]) -> Optional[Path]:
        """Folder of an upload/view `type`; None for an unknown type."""
        kind = kind or "input"
        return self.base_dir / kind if kind in KINDS else None

    @staticmethod
    def split_annotation(name: str, default: str = "input") -> Tuple[str, str]:
        """`"x.png [temp]"` -> ("x.png", "temp"); unannotated names keep `default`."""
        for kind in KINDS:
            suffix = f" [{kind}]"
            if name.endswith(suffix):
                return name[: -len(suffix)], kind
        return name, default

    def annotated_path(self, name: str, default: str = "input") -> Optional[Path]:
        """Absolute path of a LoadImage value, or None when it would leave its folder."""
        plain, kind = self.split_annotation(name, default)
        root = self.base_dir / kind
        path = (root / plain).resolve()
        if os.path.commonpath([str(root), str(path)]) != str(root):
            return None
        return path

    def inside(self, root: Path, path: Path) -> bool:
        """True when `path` stays within `root` (the traversal check uploads and views use)."""
        return os.path.commonpath([str(root.resolve()), str(path.resolve())]) == str(root.resolve())

    def next_save_path(self, kind: str, prefix: str) -> Tuple[Path, str, str]:
        """Where SaveImage writes next: (path, filename, subfolder) with ComfyUI's `_00001_` counter."""
        root = self.base_dir / kind
        subfolder = os.path.dirname(os.path.normpath(prefix)) if "/" in prefix or "\\" in prefix else ""
        base = os.path.basename(os.path.normpath(prefix)) or "ComfyUI"
        folder = (root / subfolder).resolve()
        if not self.inside(root, folder):
            raise ValueError(f"Saving image outside the output folder is not allowed: {prefix}")
        folder.mkdir(parents=True, exist_ok=True)
        pattern = re.compile(re.escape(base) + r"_(\d{5,})_\.png$")
        counter = 0
        for entry in os.listdir(folder):
            match = pattern.match(entry)
            if match:
                counter = max(counter, int(match.group(1)))
        filename = f"{base}_{counter + 1:05d}_.png"
        return folder / filename, filename, Path(subfolder).as_posix() if subfolder else ""
