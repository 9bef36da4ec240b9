"""Which wheels `install-deps` puts into Nuke's Python, and which it must leave out.

Nuke's interpreter is not the one running pip, so pip is told its version and platform tags;
the tags stop at the target's own glibc (Linux) or macOS version, never newer. Two things must
never land in the deps folder, which init.py puts first on sys.path: a module Nuke itself ships
(PySide2/6, shiboken, numpy, ... — shadowing them breaks Nuke), and type-stub-only packages
(Qt.py 2.x depends on types-PySide6: Qt.py is therefore installed without its dependencies).
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple

# What must be importable inside Nuke (mirrors [project].dependencies of pyproject.toml):
# installed with their dependencies...
RUNTIME_REQUIREMENTS = ["requests>=2.28", "urllib3>=1.26,<3", "websocket-client>=1.6", "pydantic>=2.5,<3"]
# ...and without: Qt.py's only dependency is a stub package; the binding is Nuke's own.
NO_DEPS_REQUIREMENTS = ["Qt.py>=1.3"]
# Optional, for frame-batch seam crossfades in the Nuke session (nuke_comfyui/blend; numpy is Nuke's
# own): EXR and 8-bit results. Not PyAV (16-bit PNG), whose bundled FFmpeg would sit in Nuke's process
# beside Nuke's own. Installed in a run of its own, so a platform without these wheels (OpenEXR has
# none for glibc older than 2.28) still gets everything else.
BLEND_REQUIREMENTS = ["openexr>=3.2", "Pillow>=10"]

# Modules Nuke ships outside its interpreter's default path (PySide and shiboken live in Nuke's
# pythonextensions folder, added by Nuke at start), never installed whatever the probe says.
NEVER_SHADOW = frozenset({"PySide2", "PySide6", "shiboken2", "shiboken6", "numpy", "nuke", "nukescripts",
                          "hiero", "_nuke"})
OLDEST_GLIBC = (2, 17)  # Nuke 14's platform (CentOS 7); manylinux2014
_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}


class WheelChoiceError(Exception):
    """The target's platform cannot be matched to wheel tags (message says what to do)."""


def manylinux_tags(glibc: str, machine: str) -> List[str]:
    """manylinux tags from the target's glibc down to the oldest, newest first (as pip ranks them)."""
    arch = _ARCH.get(machine.lower(), machine.lower())
    match = re.match(r"^glibc(\d+)\.(\d+)", glibc)
    major, minor = (int(match.group(1)), int(match.group(2))) if match else OLDEST_GLIBC
    if major != 2 or minor < 5:
        raise WheelChoiceError(f"unexpected C library {glibc!r}; Nuke runs on glibc 2.17 or newer")
    tags = []
    for version in range(minor, 4, -1):
        tags.append(f"manylinux_2_{version}_{arch}")
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}.get(version)
        if legacy:
            tags.append(f"{legacy}_{arch}")
    return tags


def macos_tags(mac_ver: str, machine: str) -> List[str]:
    """macosx tags from the target's macOS version down to 10.9, newest first, plus universal2."""
    arch = "arm64" if machine.lower() in ("arm64", "aarch64") else "x86_64"
    parts = [int(p) for p in re.findall(r"\d+", mac_ver)[:2]] or [11, 0]
    major, minor = parts[0], (parts[1] if len(parts) > 1 else 0)
    versions: List[Tuple[int, int]] = [(m, 0) for m in range(major, 10, -1)] if major >= 11 else []
    if arch == "x86_64":
        versions += [(10, m) for m in range(minor if major == 10 else 15, 8, -1)]
    tags = [f"macosx_{a}_{b}_{arch}" for a, b in versions]
    return tags + [f"macosx_{a}_{b}_universal2" for a, b in versions if (a, b) >= (10, 9)]


def platform_tags(sys_platform: str, machine: str, libc: str, mac_ver: str) -> List[str]:
    """Every wheel platform tag Nuke's interpreter accepts, best first."""
    if sys_platform.startswith("linux"):
        return manylinux_tags(libc, machine)
    if sys_platform in ("win32", "cygwin"):
        return ["win_amd64"] if machine.lower() in ("amd64", "x86_64") else [f"win_{machine.lower()}"]
    if sys_platform == "darwin":
        return macos_tags(mac_ver, machine)
    raise WheelChoiceError(f"unsupported platform {sys_platform!r}: Nuke runs on Linux, Windows and macOS")


def pip_commands(version: str, tags: Sequence[str], target: Path, pip_python: str = sys.executable) -> List[List[str]]:
    """The pip runs (by *this* Python) that put wheels for Nuke's interpreter into target."""
    base = [pip_python, "-m", "pip", "install", "--no-user", "--no-compile", "--disable-pip-version-check",
            "--target", str(target), "--python-version", version, "--implementation", "cp",
            "--only-binary=:all:"]
    for tag in tags:
        base += ["--platform", tag]
    return [[*base, *RUNTIME_REQUIREMENTS], [*base, "--no-deps", *NO_DEPS_REQUIREMENTS]]


def optional_pip_commands(version: str, tags: Sequence[str], target: Path,
                          pip_python: str = sys.executable) -> List[List[str]]:
    """The pip run for what Nuke can do without (seam crossfades): its failure is a note, not an error."""
    base = pip_commands(version, tags, target, pip_python)[0][: -len(RUNTIME_REQUIREMENTS)]
    return [[*base, *BLEND_REQUIREMENTS]]


@dataclass(frozen=True)
class Distribution:
    """One installed distribution in a --target folder: its name, version and top-level entries."""

    name: str
    version: str
    dist_info: Path
    top_level: Tuple[str, ...]  # file or folder names directly in the target

    def modules(self) -> Set[str]:
        """Import names of its top-level entries ('typing_extensions.py' -> 'typing_extensions')."""
        return {entry.split(".")[0] for entry in self.top_level}

    def is_stub_only(self) -> bool:
        return self.name.lower().startswith("types-") or all(e.endswith("-stubs") for e in self.top_level)


def distributions(target: Path) -> List[Distribution]:
    """Distributions pip installed into target, from each *.dist-info's METADATA and RECORD."""
    found = []
    for info in sorted(target.glob("*.dist-info")):
        metadata = _read(info / "METADATA")
        name = re.search(r"^Name: *(.+)$", metadata, re.M)
        version = re.search(r"^Version: *(.+)$", metadata, re.M)
        record = _read(info / "RECORD")
        entries = {re.split(r"[/\\]", line.split(",")[0])[0] for line in record.splitlines() if line.strip()}
        entries -= {info.name, "..", "bin", "__pycache__", ""}
        found.append(Distribution(name.group(1).strip() if name else info.name.split("-")[0],
                                  version.group(1).strip() if version else "?", info, tuple(sorted(entries))))
    return found


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def drop_unwanted(target: Path, shipped: Set[str]) -> Dict[str, str]:
    """Remove stub-only distributions and those that would shadow a module Nuke ships.

    Returns {distribution: reason} of what was removed. Console scripts (bin/) and stub folders a
    wheel bundles (Qt.py 2.x has Qt-stubs/) go too: Nuke runs neither.
    """
    removed: Dict[str, str] = {}
    for dist in distributions(target):
        clash = sorted(dist.modules() & (set(NEVER_SHADOW) | shipped))
        if dist.is_stub_only():
            reason = "type stubs only, nothing to run"
        elif clash:
            reason = f"Nuke ships {', '.join(clash)}: Nuke's own is used"
        else:
            continue
        for entry in (*dist.top_level, dist.dist_info.name):
            path = target / entry
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        removed[dist.name] = reason
    for extra in [target / "bin", *target.glob("*-stubs")]:  # scripts Nuke never runs; stubs bundled in a wheel
        if extra.is_dir():
            shutil.rmtree(extra)
    return removed
