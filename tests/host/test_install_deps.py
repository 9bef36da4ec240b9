"""install-deps: probe a (fake) Nuke interpreter, choose wheels, stage, filter and swap; never touches the network."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_comfyui.cli import install_deps_cmd as cmd
from nuke_comfyui.cli import nuke_wheels

REPO = Path(__file__).resolve().parents[2]


def _fake_python(path: Path, version=(3, 10), platform="linux", machine="x86_64", libc=("glibc", "2.28"),
                 shipped=("json", "certifi")) -> Path:
    """An executable that answers the probe like Nuke's interpreter would (and fails on anything else)."""
    answer = json.dumps({"version": list(version), "sys_platform": platform, "machine": machine,
                         "sysconfig_platform": f"{platform}-{machine}", "mac_ver": "",
                         "libc": list(libc), "shipped": list(shipped)})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n[ \"$1 $2 $3\" = \"-E -s -c\" ] || exit 3\necho '{answer}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _plugin_folder(path: Path) -> Path:
    (path / "nuke_comfyui" / "host").mkdir(parents=True)
    (path / "nuke_comfyui" / "host" / "startup.py").write_text("")
    (path / "init.py").write_text("")
    return path


def _dist(target: Path, name: str, version: str, *entries: str) -> None:
    """A distribution as pip --target leaves it: its files and a dist-info with METADATA and RECORD."""
    info = target / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    rows = []
    for entry in entries:
        if entry.endswith(".py"):
            (target / entry).write_text("")
            rows.append(f"{entry},,")
        else:
            (target / entry).mkdir(exist_ok=True)
            (target / entry / "__init__.py").write_text("")
            rows.append(f"{entry}/__init__.py,sha256=x,0")
    rows.append(f"{info.name}/RECORD,,")
    (info / "RECORD").write_text("\n".join(rows) + "\n")


def test_finds_linux_interpreter_in_a_nuke_install(tmp_path):
    python = _fake_python(tmp_path / "Nuke15.1v3" / "python3")
    assert cmd.find_interpreter(tmp_path / "Nuke15.1v3") == python


def test_finds_macos_interpreter_in_the_app_bundle(tmp_path):
    python = _fake_python(tmp_path / "Nuke16.0v1" / "Nuke16.0v1.app" / "Contents" / "MacOS" / "python")
    assert cmd.find_interpreter(tmp_path / "Nuke16.0v1") == python


def test_missing_interpreter_says_what_to_pass(tmp_path):
    with pytest.raises(cmd.InstallDepsError, match="--python"):
        cmd.find_interpreter(tmp_path)


def test_probe_reads_version_platform_glibc_and_shipped_modules(tmp_path):
    info = cmd.probe_interpreter(_fake_python(tmp_path / "python3", shipped=("json", "numpy")))
    assert (info.major, info.minor, info.sys_platform, info.machine) == (3, 10, "linux", "x86_64")
    assert info.libc == "glibc2.28" and info.shipped == {"json", "numpy"}
    assert info.folder_name == "py3.10-linux-x86_64"


def test_the_real_probe_runs_in_this_interpreter():
    info = cmd.probe_interpreter(Path(sys.executable))
    assert (info.major, info.minor) == sys.version_info[:2]
    assert {"json", "sys", "pip"} <= info.shipped  # stdlib, builtins and site-packages are all seen


def test_pip_commands_match_init_folder_naming_and_install_qt_py_without_its_stub_dependency(tmp_path):
    info = cmd.probe_interpreter(_fake_python(tmp_path / "python3"))
    with_deps, no_deps = cmd.build_pip_commands(info, tmp_path / "deps" / info.folder_name)
    for command in (with_deps, no_deps):
        joined = " ".join(command)
        assert command[:4] == [sys.executable, "-m", "pip", "install"]
        assert f"--target {tmp_path / 'deps' / 'py3.10-linux-x86_64'}" in joined
        assert "--python-version 3.10" in joined and "--implementation cp" in joined
        assert "--only-binary=:all:" in command and "--no-compile" in command
    assert [r.split(">")[0] for r in with_deps[-4:]] == ["requests", "urllib3", "websocket-client", "pydantic"]
    assert "--no-deps" not in with_deps
    assert no_deps[-2:] == ["--no-deps", "Qt.py>=1.3"]
    here = cmd.current_deps_folder(REPO).name
    assert here == cmd.deps_folder_name(sys.version_info[0], sys.version_info[1], sys.platform,
                                        __import__("platform").machine())


def test_linux_tags_stop_at_the_targets_glibc():
    tags = nuke_wheels.manylinux_tags("glibc2.28", "x86_64")
    assert tags[0] == "manylinux_2_28_x86_64"
    assert "manylinux_2_29_x86_64" not in tags and "manylinux_2_34_x86_64" not in tags
    assert {"manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert not any(tag.startswith("linux_") for tag in tags)  # no wheel without a glibc promise
    assert nuke_wheels.manylinux_tags("glibc2.17", "aarch64")[:2] == ["manylinux_2_17_aarch64",
                                                                     "manylinux2014_aarch64"]


def test_unknown_glibc_falls_back_to_nukes_oldest_and_other_libcs_are_refused():
    assert nuke_wheels.manylinux_tags("", "x86_64")[0] == "manylinux_2_17_x86_64"
    with pytest.raises(nuke_wheels.WheelChoiceError, match=r"glibc 2\.17"):
        nuke_wheels.manylinux_tags("glibc3.1", "x86_64")


def test_macos_tags_stop_at_the_targets_version():
    arm = nuke_wheels.macos_tags("12.6.1", "arm64")
    assert arm[:2] == ["macosx_12_0_arm64", "macosx_11_0_arm64"] and "macosx_13_0_arm64" not in arm
    assert "macosx_12_0_universal2" in arm and not any("x86_64" in t for t in arm)
    intel = nuke_wheels.macos_tags("10.15.7", "x86_64")
    assert intel[0] == "macosx_10_15_x86_64" and "macosx_10_9_x86_64" in intel
    assert not any(t.startswith("macosx_11") for t in intel)


@pytest.mark.parametrize(("platform", "machine", "tag", "folder"), [
    ("win32", "AMD64", "win_amd64", "py3.11-windows-amd64"),
    ("darwin", "arm64", "macosx_11_0_arm64", "py3.11-macos-arm64"),
])
def test_other_platforms(platform, machine, tag, folder):
    info = cmd.InterpreterInfo("x", 3, 11, platform, machine)
    assert tag in cmd.pip_platform_tags(info)
    assert info.folder_name == folder


def test_unsupported_platform_is_an_error_naming_it():
    with pytest.raises(cmd.InstallDepsError, match="'aix'"):
        cmd.pip_platform_tags(cmd.InterpreterInfo("x", 3, 11, "aix", "ppc"))


def test_stubs_modules_nuke_ships_and_scripts_are_left_out(tmp_path):
    _dist(tmp_path, "requests", "2.32.0", "requests")
    _dist(tmp_path, "typing_extensions", "4.12.0", "typing_extensions.py")
    _dist(tmp_path, "types-PySide6", "6.5.0", "PySide6-stubs")
    _dist(tmp_path, "PySide6", "6.5.3", "PySide6")
    _dist(tmp_path, "certifi", "2024.1.1", "certifi")
    _dist(tmp_path, "Qt.py", "2.0.7", "Qt.py", "Qt-stubs")
    (tmp_path / "bin").mkdir()
    removed = nuke_wheels.drop_unwanted(tmp_path, shipped={"certifi", "json"})
    assert set(removed) == {"types-PySide6", "PySide6", "certifi"}
    assert "stubs" in removed["types-PySide6"] and "Nuke ships PySide6" in removed["PySide6"]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["Qt.py", "Qt.py-2.0.7.dist-info", "requests", "requests-2.32.0.dist-info",
                    "typing_extensions-4.12.0.dist-info", "typing_extensions.py"]
    assert [d.name for d in nuke_wheels.distributions(tmp_path)] == ["Qt.py", "requests", "typing_extensions"]


def test_default_plugin_folder_is_this_checkout(monkeypatch):
    monkeypatch.delenv("NUKE_PATH", raising=False)
    assert cmd.default_plugin_dir() == REPO
    assert cmd.plugin_dir(None) == REPO


def test_installed_as_a_package_the_plugin_folder_comes_from_nuke_path_or_must_be_given(tmp_path, monkeypatch):
    monkeypatch.setattr(cmd, "PLUGIN_ROOT", tmp_path / "venv" / "lib" / "python3.11")  # site-packages' parent
    plugin = _plugin_folder(tmp_path / "studio" / "nuke-comfyui")
    elsewhere = tmp_path / "gizmos"
    elsewhere.mkdir()
    monkeypatch.setenv("NUKE_PATH", f"{elsewhere}:{plugin}")
    assert cmd.default_plugin_dir() == plugin.resolve()
    monkeypatch.setenv("NUKE_PATH", str(elsewhere))
    with pytest.raises(cmd.InstallDepsError, match=r"installed as a package.*--plugin-dir"):
        cmd.plugin_dir(None)


def test_a_plugin_dir_without_init_py_is_refused(tmp_path):
    with pytest.raises(cmd.InstallDepsError, match="not the nuke-comfyui plugin folder"):
        cmd.plugin_dir(str(tmp_path))


def test_dry_run_standalone_form_prints_both_commands_and_writes_nothing(tmp_path):
    python = _fake_python(tmp_path / "Nuke15.1v3" / "python")
    plugin = _plugin_folder(tmp_path / "plugin")
    done = subprocess.run(
        [sys.executable, "-m", "nuke_comfyui.cli.install_deps_cmd", "--nuke", str(tmp_path / "Nuke15.1v3"),
         "--plugin-dir", str(plugin), "--dry-run"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert str(python) in done.stdout and "glibc2.28" in done.stdout
    assert done.stdout.count("--target " + str(plugin / "deps" / "py3.10-linux-x86_64")) == 3
    assert "'openexr>=3.2' 'Pillow>=10'    # optional: seam crossfades" in done.stdout
    assert not (plugin / "deps").exists()


def _pip_writing(monkeypatch, script: str, optional: str = "") -> None:
    """Replace the pip runs by one Python run that fills the staging folder (argv[1]) like pip would
    (and the optional run by `optional`, or by none)."""
    monkeypatch.setattr(cmd, "build_pip_commands",
                        lambda info, target, **_: [[sys.executable, "-c", script, str(target)]])
    monkeypatch.setattr(cmd, "build_optional_pip_commands",
                        lambda info, target, **_: [[sys.executable, "-c", optional, str(target)]] if optional else [])


def test_optional_blend_packages_failing_to_install_is_a_note_not_a_failure(tmp_path, monkeypatch, capsys):
    plugin = _plugin_folder(tmp_path / "plugin")
    _pip_writing(monkeypatch, FILL, optional="import sys; print('No matching distribution found for openexr');"
                                             "sys.exit(1)")
    assert cmd.main(["--python", sys.executable, "--plugin-dir", str(plugin)]) == 0
    out = capsys.readouterr().out
    assert "optional packages not installed (pip exit 1" in out and "seam 'cut'" in out
    assert (plugin / "deps" / cmd.current_deps_folder(plugin).name / "fresh.py").is_file()


def test_optional_blend_run_targets_nukes_python_and_leaves_numpy_to_nuke(tmp_path):
    info = cmd.InterpreterInfo("/nuke/python", 3, 10, "linux", "x86_64", libc="glibc2.28")
    (command,) = cmd.build_optional_pip_commands(info, tmp_path / "t")
    assert command[-2:] == nuke_wheels.BLEND_REQUIREMENTS and "numpy" not in " ".join(command)
    assert "--only-binary=:all:" in command and command[command.index("--python-version") + 1] == "3.10"
    assert "manylinux_2_28_x86_64" in command and "manylinux_2_29_x86_64" not in command
    assert "numpy" in nuke_wheels.NEVER_SHADOW  # openexr's numpy dependency is dropped: Nuke's own is used


FILL = ("import sys, pathlib; t = pathlib.Path(sys.argv[1]); (t / 'fresh.py').write_text('');"
        "i = t / 'types_x-1.dist-info'; i.mkdir(); i.joinpath('METADATA').write_text('Name: types-x\\nVersion: 1\\n');"
        "(t / 'x-stubs').mkdir(); i.joinpath('RECORD').write_text('x-stubs/__init__.pyi,,\\n')")


def test_install_stages_filters_verifies_then_replaces_the_old_folder(tmp_path, monkeypatch, capsys):
    plugin = _plugin_folder(tmp_path / "plugin")
    old = plugin / "deps" / cmd.current_deps_folder(plugin).name
    old.mkdir(parents=True)
    (old / "stale.py").write_text("")
    _pip_writing(monkeypatch, FILL)
    assert cmd.main(["--python", sys.executable, "--plugin-dir", str(plugin)]) == 0
    assert sorted(p.name for p in old.iterdir() if p.name != "__pycache__") == ["fresh.py"]
    assert sorted(p.name for p in (plugin / "deps").iterdir()) == [old.name]  # no staging or old copy left
    out = capsys.readouterr().out
    assert "left out types-x: type stubs only" in out and "Nuke's Python imports: requests" in out


def test_a_failed_import_check_changes_nothing(tmp_path, monkeypatch, capsys):
    plugin = _plugin_folder(tmp_path / "plugin")
    old = plugin / "deps" / cmd.current_deps_folder(plugin).name
    old.mkdir(parents=True)
    (old / "kept.py").write_text("")
    _pip_writing(monkeypatch, "import sys, pathlib; p = pathlib.Path(sys.argv[1]) / 'pydantic'; p.mkdir();"
                              "(p / '__init__.py').write_text('raise ImportError(\"built for another Python\")')")
    assert cmd.main(["--python", sys.executable, "--plugin-dir", str(plugin)]) == 1
    err = capsys.readouterr().err
    assert "cannot import the new packages; nothing was changed" in err and "built for another Python" in err
    assert sorted(p.name for p in (plugin / "deps").iterdir()) == [old.name]
    assert [p.name for p in old.iterdir()] == ["kept.py"]


def test_a_failing_pip_is_reported_in_full_and_changes_nothing(tmp_path, monkeypatch, capsys):
    plugin = _plugin_folder(tmp_path / "plugin")
    _pip_writing(monkeypatch, "import sys; print('ERROR: No matching distribution found for pydantic'); sys.exit(1)")
    assert cmd.main(["--python", sys.executable, "--plugin-dir", str(plugin)]) == 1
    err = capsys.readouterr().err
    assert "pip failed (exit 1); nothing was changed" in err and "No matching distribution found" in err
    assert list((plugin / "deps").iterdir()) == []


def test_broken_interpreter_exits_1_with_a_message(tmp_path, capsys):
    bad = tmp_path / "python"
    bad.write_text("#!/bin/sh\necho boom >&2\nexit 5\n")
    bad.chmod(0o755)
    assert cmd.main(["--python", str(bad), "--dry-run"]) == 1
    assert "boom" in capsys.readouterr().err
