"""`nuke-comfyui install-deps`: put the runtime dependencies where Nuke's own Python finds them.

Nuke ships its own interpreter without pip, and installing websocket-client into it is the most
reported pain of ComfyUI-for-Nuke plugins. This command asks Nuke's interpreter for its version
and platform, then runs pip from the *current* environment with `--target`, `--python-version`,
`--platform` and `--only-binary=:all:` so the wheels match Nuke's interpreter, into
`<plugin>/deps/py<X.Y>-<platform>`, the folder `init.py` adds to `sys.path`.

Standard library only, so it also runs straight from a checkout without the package installed:
`python -m nuke_comfyui.cli.install_deps_cmd --nuke /opt/Nuke15.1v3` (or `python path/to/this/file ...`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HELP = "install the runtime dependencies for Nuke's bundled Python into the plugin's deps folder"

# What must be importable inside Nuke (mirrors [project].dependencies of pyproject.toml).
RUNTIME_REQUIREMENTS = ["requests>=2.28", "websocket-client>=1.6", "pydantic>=2.5,<3", "Qt.py>=1.3"]

PLUGIN_ROOT = Path(__file__).resolve().parents[2]

# Runs inside Nuke's interpreter: only what every Python 3 has.
PROBE_SNIPPET = (
    "import json, platform, sys, sysconfig;"
    "print(json.dumps({'version': list(sys.version_info[:2]), 'sys_platform': sys.platform,"
    " 'machine': platform.machine(), 'sysconfig_platform': sysconfig.get_platform(),"
    " 'mac_ver': platform.mac_ver()[0], 'libc': list(platform.libc_ver())}))"
)


class InstallDepsError(Exception):
    """The interpreter cannot be found or probed (message says what to pass instead)."""


def platform_key(sys_platform: str, machine: str) -> str:
    """The platform half of the deps folder name: 'linux-x86_64', 'windows-amd64', 'macos-arm64'.

    `init.py` computes the same key from the running interpreter, so the two must never diverge:
    both call this function.
    """
    if sys_platform.startswith("linux"):
        os_name = "linux"
    elif sys_platform in ("win32", "cygwin"):
        os_name = "windows"
    elif sys_platform == "darwin":
        os_name = "macos"
    else:
        os_name = sys_platform
    return f"{os_name}-{machine.lower() or 'unknown'}"


def deps_folder_name(major: int, minor: int, sys_platform: str, machine: str) -> str:
    """'py3.10-linux-x86_64': one folder per interpreter version and platform, side by side."""
    return f"py{major}.{minor}-{platform_key(sys_platform, machine)}"


def current_deps_folder(plugin_root: Path = PLUGIN_ROOT) -> Path:
    """The deps folder for the interpreter running this code (what `init.py` puts on sys.path)."""
    name = deps_folder_name(sys.version_info[0], sys.version_info[1], sys.platform, platform.machine())
    return plugin_root / "deps" / name


@dataclass(frozen=True)
class InterpreterInfo:
    """What pip needs to know about Nuke's interpreter to choose compatible wheels."""

    path: str
    major: int
    minor: int
    sys_platform: str
    machine: str
    mac_ver: str = ""
    libc: str = ""

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def folder_name(self) -> str:
        return deps_folder_name(self.major, self.minor, self.sys_platform, self.machine)


def find_interpreter(nuke_install: Path) -> Path:
    """Nuke's bundled Python inside an install folder (or the Nuke*.app bundle on macOS)."""
    candidates: List[Path] = []
    roots = [nuke_install]
    if nuke_install.is_dir():
        roots += sorted(p for p in nuke_install.glob("Nuke*.app") if p.is_dir())
    for root in roots:
        candidates += [
            root / "python3",
            root / "python",
            root / "python.exe",
            root / "Contents" / "MacOS" / "python",
            root / "Contents" / "MacOS" / "python3",
        ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise InstallDepsError(
        f"no Python interpreter found in the Nuke install {nuke_install} (tried {tried}); "
        "pass the Nuke install folder (e.g. /usr/local/Nuke15.1v3, 'C:/Program Files/Nuke15.1v3', "
        "/Applications/Nuke15.1v3) or the interpreter itself with --python"
    )


def probe_interpreter(python: Path, *, timeout: float = 60.0) -> InterpreterInfo:
    """Ask the interpreter for its version and platform by running a one-line snippet."""
    try:
        done = subprocess.run(
            [str(python), "-c", PROBE_SNIPPET],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallDepsError(
            f"cannot run {python}: {exc}; check the path given to --python/--nuke"
        ) from exc
    if done.returncode != 0:
        raise InstallDepsError(
            f"{python} failed to report its version (exit {done.returncode}): {done.stderr.strip()[-400:]}; "
            "is this really Nuke's python?"
        )
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
        major, minor = (int(v) for v in data["version"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InstallDepsError(f"{python} printed something unexpected: {done.stdout[-400:]!r}") from exc
    libc = data.get("libc") or ["", ""]
    return InterpreterInfo(
        path=str(python),
        major=major,
        minor=minor,
        sys_platform=str(data.get("sys_platform", "")),
        machine=str(data.get("machine", "")),
        mac_ver=str(data.get("mac_ver", "")),
        libc="".join(str(p) for p in libc if p) if libc[0] else "",
    )


def pip_platform_tags(info: InterpreterInfo) -> List[str]:
    """Wheel platform tags the interpreter accepts (several, so pip finds binary wheels for pydantic-core)."""
    machine = info.machine.lower()
    if info.sys_platform.startswith("linux"):
        arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
        return [
            f"manylinux2014_{arch}",
            f"manylinux_2_17_{arch}",
            f"manylinux_2_28_{arch}",
            f"linux_{arch}",
        ]
    if info.sys_platform in ("win32", "cygwin"):
        return ["win_amd64"] if machine in ("amd64", "x86_64") else [f"win_{machine}"]
    if info.sys_platform == "darwin":
        arch = "arm64" if machine in ("arm64", "aarch64") else "x86_64"
        versions = ["11_0", "12_0"]
        if arch == "x86_64":
            versions = ["10_9", "10_12", "10_13", "10_15", *versions]
        tags = [f"macosx_{v}_{arch}" for v in versions]
        return tags + [f"macosx_{v}_universal2" for v in ("10_9", "11_0")]
    raise InstallDepsError(f"unsupported platform {info.sys_platform!r} reported by {info.path}")


def build_pip_command(
    info: InterpreterInfo,
    target: Path,
    *,
    pip_python: str = sys.executable,
    requirements: Sequence[str] = RUNTIME_REQUIREMENTS,
) -> List[str]:
    """The pip invocation (run by *this* Python) that installs wheels for Nuke's interpreter into target."""
    command = [
        pip_python,
        "-m",
        "pip",
        "install",
        "--upgrade",
        "--no-user",
        "--target",
        str(target),
        "--python-version",
        info.version,
        "--implementation",
        "cp",
        "--only-binary=:all:",
    ]
    for tag in pip_platform_tags(info):
        command += ["--platform", tag]
    return command + list(requirements)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--nuke", metavar="INSTALL", help="Nuke install folder, e.g. /usr/local/Nuke15.1v3")
    where.add_argument("--python", metavar="EXE", help="Nuke's bundled Python interpreter itself")
    parser.add_argument(
        "--plugin-dir",
        default=str(PLUGIN_ROOT),
        help="the plugin folder holding init.py (default: this checkout)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the pip command instead of running it")


def run(args: argparse.Namespace) -> int:
    """Probe, print, and (unless --dry-run) install; problems are printed with their fix, exit 1."""
    try:
        return _install(args)
    except InstallDepsError as exc:
        print(f"install-deps: {exc}", file=sys.stderr)
        return 1


def _install(args: argparse.Namespace) -> int:
    python = Path(args.python) if args.python else find_interpreter(Path(args.nuke))
    info = probe_interpreter(python)
    target = Path(args.plugin_dir) / "deps" / info.folder_name
    command = build_pip_command(info, target)
    print(f"Nuke's Python: {info.path} (Python {info.version}, {info.sys_platform} {info.machine})")
    print(f"target: {target}")
    print(" ".join(shlex.quote(part) for part in command))
    if args.dry_run:
        return 0
    target.mkdir(parents=True, exist_ok=True)
    env: Dict[str, str] = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    result = subprocess.run(command, env=env, check=False)
    if result.returncode != 0:
        print(
            f"pip failed (exit {result.returncode}); check network access to your package index",
            file=sys.stderr,
        )
        return 1
    print(f"done: Nuke will pick up {target} at start (init.py adds it to sys.path)")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Standalone form: `python -m nuke_comfyui.cli.install_deps_cmd --nuke ...` from a checkout."""
    parser = argparse.ArgumentParser(prog="install_deps_cmd", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
