"""The one place that names a variation (and reads its name back): `var01`, `var02`, ...

Why `var` and not `v`: studios read `v01` as a *version* of a shot (`shot_v003.nk`), so a folder
`v01` beside a script version means the wrong thing to everybody who opens it. Result folders,
file names, Read nodes, progress lines and panels all name variation index 0 `var01` through
`variation_name`, so they agree. Chunks of frames and farm tasks that need a variation's name use
it too.

Groups rendered before the rename have `v01` folders on disk; `parse_variation_name` reads both
spellings and `legacy_folder_names` tells whether a group folder uses the old one, so a resumed
or re-run old group keeps writing where its first frames are.
"""

from __future__ import annotations

import os
import re
from typing import Optional, Union

PREFIX = "var"
LEGACY_PREFIX = "v"
_NAME = re.compile(r"^(var|v)(\d{2,})$")


def variation_name(index: int, *, legacy: bool = False) -> str:
    """`var01` for 0-based variation `index` (`v01` with legacy=True, for groups made that way)."""
    if index < 0:
        raise ValueError(f"variation index {index} must be 0 or more")
    return f"{LEGACY_PREFIX if legacy else PREFIX}{index + 1:02d}"


def parse_variation_name(name: str) -> Optional[int]:
    """The 0-based index of `var03` or of the old `v03`; None for anything else."""
    match = _NAME.match(name)
    if match is None or int(match.group(2)) < 1:
        return None
    return int(match.group(2)) - 1


def legacy_folder_names(group_folder: Union[str, os.PathLike]) -> bool:
    """True when a group folder already holds old `v01`-style variation folders and no new ones.

    A folder that cannot be listed (not there yet) is a new group: new names.
    """
    try:
        entries = os.listdir(group_folder)
    except OSError:
        return False
    old = new = False
    for entry in entries:
        match = _NAME.match(entry)
        if match is not None and os.path.isdir(os.path.join(group_folder, entry)):
            if match.group(1) == PREFIX:
                new = True
            else:
                old = True
    return old and not new
