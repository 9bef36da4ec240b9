"""install-deps: probe a (fake) Nuke interpreter and build the pip command; never touches the network."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_comfyui.cli import install_deps_cmd as cmd

REPO = Path(__file__).resolve().parents[2]


def _fake_python(path: Path, version=(3, 10), platform="linux", machine="x86_64") -> Path:
    """An executable that answers the probe like Nuke's interpreter would (and fails on anything else)."""
    answer = json.dumps({"version": list(version), "sys_platform": platform, "machine": machine,
                         "sysconfig_platform": f"{platform}-{machine}", "mac_ver": "",
                         "libc": ["glibc", "2.28"]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n[ \"$1\" = \"-c\" ] || exit 3\necho '{answer}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_finds_linux_interpreter_in_a_nuke_install(tmp_path):
    python = _fake_python(tmp_path / "Nuke15.1v3" / "python3")
    assert cmd.find_interpreter(tmp_path / "Nuke15.1v3") == python


def test_finds_macos_interpreter_in_the_app_bundle(tmp_path):
    python = _fake_python(tmp_path / "Nuke16.0v1" / "Nuke16.0v1.app" / "Contents" / "MacOS" / "python")
    assert cmd.find_interpreter(tmp_path / "Nuke16.0v1") == python


def test_missing_interpreter_says_what_to_pass(tmp_path):
    with pytest.raises(cmd.InstallDepsError, match="--python"):
        cmd.find_interpreter(tmp_path)


def test_probe_and_pip_command_match_init_folder_naming(tmp_path):
    info = cmd.probe_interpreter(_fake_python(tmp_path / "python3"))
    assert (info.major, info.minor, info.sys_platform, info.machine) == (3, 10, "linux", "x86_64")
    assert info.folder_name == "py3.10-linux-x86_64"
    command = cmd.build_pip_command(info, tmp_path / "deps" / info.folder_name)
    joined = " ".join(command)
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert f"--target {tmp_path / 'deps' / 'py3.10-linux-x86_64'}" in joined
    assert "--python-version 3.10" in joined and "--implementation cp" in joined
    assert "--only-binary=:all:" in command and "--platform manylinux2014_x86_64" in joined
    for req in ("requests", "websocket-client", "pydantic", "Qt.py"):
        assert any(part.startswith(req) for part in command)
    here = cmd.current_deps_folder(REPO).name
    assert here == cmd.deps_folder_name(sys.version_info[0], sys.version_info[1], sys.platform,
                                        __import__("platform").machine())


@pytest.mark.parametrize(("platform", "machine", "tag", "folder"), [
    ("win32", "AMD64", "win_amd64", "py3.11-windows-amd64"),
    ("darwin", "arm64", "macosx_11_0_arm64", "py3.11-macos-arm64"),
])
def test_other_platforms(platform, machine, tag, folder):
    info = cmd.InterpreterInfo("x", 3, 11, platform, machine)
    assert tag in cmd.pip_platform_tags(info)
    assert info.folder_name == folder


def test_dry_run_standalone_form_prints_the_command(tmp_path):
    python = _fake_python(tmp_path / "Nuke15.1v3" / "python")
    done = subprocess.run(
        [sys.executable, "-m", "nuke_comfyui.cli.install_deps_cmd", "--nuke", str(tmp_path / "Nuke15.1v3"),
         "--plugin-dir", str(tmp_path / "plugin"), "--dry-run"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert str(python) in done.stdout
    assert "--target " + str(tmp_path / "plugin" / "deps" / "py3.10-linux-x86_64") in done.stdout
    assert not (tmp_path / "plugin" / "deps").exists()


def test_broken_interpreter_exits_1_with_a_message(tmp_path, capsys):
    bad = tmp_path / "python"
    bad.write_text("#!/bin/sh\necho boom >&2\nexit 5\n")
    bad.chmod(0o755)
    assert cmd.main(["--python", str(bad), "--dry-run"]) == 1
    assert "boom" in capsys.readouterr().err
