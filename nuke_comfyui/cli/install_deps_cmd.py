"""`nuke-comfyui install-deps`: put the runtime dependencies where Nuke's own Python finds them.

Nuke ships its own interpreter without pip, and installing websocket-client into it is the most
reported pain of ComfyUI-for-Nuke plugins. This command asks Nuke's interpreter for its version,
platform, C library and the modules it already has, runs pip from the *current* environment with
`--target`, `--python-version`, `--platform` (cli/nuke_wheels.py chooses the tags) and
`--only-binary=:all:` into a staging folder, removes anything that would shadow a module Nuke
ships or is only type stubs, checks that Nuke's interpreter imports the result, and only then
swaps it in as `<plugin>/deps/py<X.Y>-<platform>`, the folder `init.py` adds to `sys.path`.

The plugin folder is the one holding init.py and nuke_comfyui/: this checkout when the package
runs from one, else the first such folder on NUKE_PATH (a pip-installed nuke-comfyui lives in
site-packages, which Nuke never reads), else --plugin-dir must say. Standard library only, so it
also runs from a checkout without the package installed:
`python -m nuke_comfyui.cli.install_deps_cmd --nuke /opt/Nuke15.1v3`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Mapping, Optional

from nuke_comfyui.cli import nuke_wheels
from nuke_comfyui.core import deps_folder
from nuke_comfyui.core.deps_folder import deps_folder_name

HELP = "install the runtime dependencies for Nuke's bundled Python into the plugin's deps folder"

PLUGIN_ROOT = Path(__file__).resolve().parents[2]  # the plugin folder when run from a checkout

# Runs inside Nuke's interpreter (with -E -s: no PYTHONPATH, no user site): only what every Python 3 has.
# `shipped`: top-level modules it finds on its own, plus Nuke's pythonextensions folder where present.
PROBE_SNIPPET = """\
import json, os, pkgutil, platform, sys, sysconfig
path = [p for p in sys.path if p not in ('', os.getcwd())]
extra = os.path.join(os.path.dirname(os.path.abspath(sys.executable)), 'pythonextensions', 'site-packages')
names = {m.name for m in pkgutil.iter_modules(path + [extra])} | set(sys.builtin_module_names)
print(json.dumps({'version': list(sys.version_info[:2]), 'sys_platform': sys.platform,
                  'machine': platform.machine(), 'sysconfig_platform': sysconfig.get_platform(),
                  'mac_ver': platform.mac_ver()[0], 'libc': list(platform.libc_ver()), 'shipped': sorted(names)}))
"""
# Runs inside Nuke's interpreter with the staged folder first on sys.path: what init.py will load.
VERIFY_SNIPPET = """\
import sys, importlib.util
sys.path.insert(0, sys.argv[1])
import requests, websocket, pydantic, pydantic_core
assert importlib.util.find_spec('Qt') is not None, 'Qt.py is missing'
print('requests', requests.__version__, '| websocket-client', websocket.__version__, '| pydantic', pydantic.VERSION)
try:
    import numpy, OpenEXR, PIL
    print('| seam crossfades: numpy', numpy.__version__, '| Pillow', PIL.__version__)
except ImportError as exc:
    print('| seam crossfades unavailable in Nuke (' + str(exc) + "): frame batches render with seam 'cut'")
"""


class InstallDepsError(Exception):
    """The interpreter cannot be found or probed (message says what to pass instead)."""


def current_deps_folder(plugin_root: Path = PLUGIN_ROOT) -> Path:
    """The deps folder for the interpreter running this code (core/deps_folder: what init.py adds)."""
    return deps_folder.current_deps_folder(plugin_root)


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
    shipped: FrozenSet[str] = field(default_factory=frozenset)  # top-level modules Nuke's Python has

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
            [str(python), "-E", "-s", "-c", PROBE_SNIPPET],
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
        shipped=frozenset(str(n) for n in data.get("shipped", [])),
    )


def pip_platform_tags(info: InterpreterInfo) -> List[str]:
    """Wheel platform tags Nuke's interpreter accepts, limited to its glibc / macOS version."""
    try:
        return nuke_wheels.platform_tags(info.sys_platform, info.machine, info.libc, info.mac_ver)
    except nuke_wheels.WheelChoiceError as exc:
        raise InstallDepsError(f"{exc} (reported by {info.path})") from None


def build_pip_commands(info: InterpreterInfo, target: Path, *, pip_python: str = sys.executable) -> List[List[str]]:
    """The pip runs (by *this* Python) that install wheels for Nuke's interpreter into target."""
    return nuke_wheels.pip_commands(info.version, pip_platform_tags(info), target, pip_python)


def build_optional_pip_commands(info: InterpreterInfo, target: Path, *,
                                pip_python: str = sys.executable) -> List[List[str]]:
    """The pip run for seam-crossfade packages, allowed to fail (see nuke_wheels.BLEND_REQUIREMENTS)."""
    return nuke_wheels.optional_pip_commands(info.version, pip_platform_tags(info), target, pip_python)


def is_plugin_folder(folder: Path) -> bool:
    """The folder Nuke is given (NUKE_PATH): init.py beside the nuke_comfyui package."""
    return (folder / "init.py").is_file() and (folder / "nuke_comfyui" / "host" / "startup.py").is_file()


def default_plugin_dir(environ: Optional[Mapping[str, str]] = None) -> Optional[Path]:
    """This checkout when the package runs from a plugin folder, else the first one on NUKE_PATH."""
    if is_plugin_folder(PLUGIN_ROOT):
        return PLUGIN_ROOT
    env = os.environ if environ is None else environ
    for entry in env.get("NUKE_PATH", "").split(os.pathsep):
        if entry.strip() and is_plugin_folder(Path(entry.strip()).expanduser()):
            return Path(entry.strip()).expanduser().resolve()
    return None


def plugin_dir(given: Optional[str]) -> Path:
    """--plugin-dir when given (checked), else the default; explains what to pass when neither works."""
    if given:
        folder = Path(given).expanduser().resolve()
        if not is_plugin_folder(folder):
            raise InstallDepsError(
                f"{folder} is not the nuke-comfyui plugin folder (it needs init.py and nuke_comfyui/ side by "
                "side); pass the folder you add to NUKE_PATH")
        return folder
    found = default_plugin_dir()
    if found is None:
        raise InstallDepsError(
            f"this nuke-comfyui is installed as a package ({Path(__file__).resolve().parents[1]}), not inside a "
            "plugin folder, and no folder on NUKE_PATH holds the plugin; pass --plugin-dir /path/to/nuke-comfyui "
            "(the folder with init.py that you add to NUKE_PATH)")
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--nuke", metavar="INSTALL", help="Nuke install folder, e.g. /usr/local/Nuke15.1v3")
    where.add_argument("--python", metavar="EXE", help="Nuke's bundled Python interpreter itself")
    parser.add_argument(
        "--plugin-dir",
        default=None,
        help="the plugin folder holding init.py (default: this checkout, else the plugin folder on NUKE_PATH)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the pip commands instead of running them")


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
    target = plugin_dir(args.plugin_dir) / "deps" / info.folder_name
    print(f"Nuke's Python: {info.path} (Python {info.version}, {info.sys_platform} {info.machine}"
          f"{', ' + info.libc if info.libc else ''}{', macOS ' + info.mac_ver if info.mac_ver else ''})")
    print(f"target: {target}")
    if args.dry_run:
        for command in build_pip_commands(info, target):
            print(" ".join(shlex.quote(part) for part in command))
        for command in build_optional_pip_commands(info, target):
            print(" ".join(shlex.quote(part) for part in command) + "    # optional: seam crossfades")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        _stage(info, staging)
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"done: Nuke will pick up {target} at start (init.py adds it to sys.path)")
    return 0


def _stage(info: InterpreterInfo, staging: Path) -> None:
    """pip into staging, drop what must not shadow Nuke, and have Nuke's Python import the result."""
    env: Dict[str, str] = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    for command in build_pip_commands(info, staging):
        print("running: " + " ".join(shlex.quote(part) for part in command[3:]))
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise InstallDepsError(f"pip failed (exit {done.returncode}); nothing was changed. pip said:\n"
                                   f"{done.stdout}{done.stderr}\ncheck network access to your package index")
    for command in build_optional_pip_commands(info, staging):
        print("running: " + " ".join(shlex.quote(part) for part in command[3:]))
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"optional packages not installed (pip exit {done.returncode}: no wheel for this Nuke's "
                  "platform?); everything else works, and frame batches need seam 'cut' in Nuke")
    for name, reason in nuke_wheels.drop_unwanted(staging, set(info.shipped)).items():
        print(f"left out {name}: {reason}")
    kept = ", ".join(f"{d.name} {d.version}" for d in nuke_wheels.distributions(staging))
    print(f"installing: {kept}")
    print(f"Nuke's Python imports: {verify_imports(info.path, staging)}")


def verify_imports(python: str, folder: Path) -> str:
    """Have Nuke's interpreter import the dependencies from folder (first on sys.path); their versions."""
    try:
        check = subprocess.run([python, "-E", "-s", "-c", VERIFY_SNIPPET, str(folder)],
                               capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallDepsError(f"cannot run {python} to check the packages: {exc}") from None
    if check.returncode != 0:
        raise InstallDepsError(f"Nuke's Python cannot import the new packages; nothing was changed:\n"
                               f"{check.stderr.strip()}\nreport this with the output above")
    return check.stdout.strip()


def _swap_in(staging: Path, target: Path) -> None:
    """Replace target by staging; the old folder is removed only once the new one is in place."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> int:
    """Standalone form: `python -m nuke_comfyui.cli.install_deps_cmd --nuke ...` from a checkout."""
    parser = argparse.ArgumentParser(prog="install_deps_cmd", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
