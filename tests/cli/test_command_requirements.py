"""Each command says in one line what it lacks: an extra, a display, the plugin's init.py (cli/extras.py).

Reproduces issue 25: after a plain `pip install nuke-comfyui`, `sim`, `demo`, `monitor`,
`screenshots` and `bench --init-import` died with ImportError / CalledProcessError tracebacks, and
`monitor` with no display was aborted by Qt. A missing package is simulated by an import hook that
refuses it, in a child interpreter, as a fresh install without the extra would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from nuke_comfyui.cli.extras import MissingRequirement, require, require_display
from nuke_comfyui.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BLOCK = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Refuse())
sys.argv = ["nuke-comfyui", *{argv!r}]
from nuke_comfyui.cli.main import entry
entry()
"""


def _without(blocked: List[str], argv: List[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ: Dict[str, str] = dict(os.environ, PYTHONPATH=str(ROOT), NUKE_COMFYUI_DATA_DIR=str(tmp_path / "d"))
    environ.update(env)
    for key in [k for k, v in env.items() if v == ""]:
        environ.pop(key)
    code = BLOCK.format(blocked=set(blocked), argv=argv)
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environ, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize(("argv", "blocked", "extra"), [
    (["sim", "--servers", "1", "--port", "0"], ["aiohttp"], "sim"),
    (["demo", "--sim"], ["PIL"], "sim"),
    (["bench", "--no-big-group"], ["aiohttp"], "sim"),
    (["screenshots", "--out", "shots"], ["aiohttp"], "sim,pyside6"),
    (["screenshots", "--out", "shots"], ["PySide6", "PySide2", "PyQt5", "PyQt6"], "sim,pyside6"),
    (["monitor"], ["PySide6", "PySide2", "PyQt5", "PyQt6"], "pyside6"),
])
def test_a_missing_extra_is_one_line_naming_it(argv: List[str], blocked: List[str], extra: str,
                                               tmp_path: Path) -> None:
    done = _without(blocked, argv, tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"nuke-comfyui {argv[0]}: needs ")
    assert lines[0].endswith(f"install with: pip install 'nuke-comfyui[{extra}]'"), lines[0]
    assert not (tmp_path / "nuke-comfyui-demo").exists() and not (tmp_path / "shots").exists()


def test_require_names_the_missing_module_and_the_extra() -> None:
    with pytest.raises(MissingRequirement) as caught:
        require(["sim"], ["nuke_comfyui_no_such_module_for_this_test"])
    assert "pip install 'nuke-comfyui[sim]'" in str(caught.value)
    require(["sim"], ["json"])  # present: nothing to say


def test_monitor_without_a_display_says_so_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingRequirement, match="no display"):
        require_display()
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    require_display()  # the user asked for a platform that needs none
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":0")
    require_display()
    # end to end, in a child without DISPLAY: exit 1 and one line, not Qt's abort (exit 134)
    done = _without([], ["monitor"], tmp_path, DISPLAY="", WAYLAND_DISPLAY="", QT_QPA_PLATFORM="")
    if sys.platform.startswith("linux"):  # (PySide6 6.5 beside NumPy 2 prints a warning first: not ours)
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("nuke-comfyui monitor: opens a window, but there is "
                                                                 "no display"), done.stderr


def test_bench_init_import_needs_the_plugin_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "--init-import", "--plugin", str(tmp_path), "--runs", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path} has no init.py" in err and "--plugin DIR" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "init.py").write_text("raise RuntimeError('broken start-up')\n")
    assert main(["bench", "--init-import", "--plugin", str(tmp_path), "--runs", "1"]) == 1
    assert "RuntimeError: broken start-up" in capsys.readouterr().err
