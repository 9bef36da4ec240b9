"""The env contract on its own: it imports nothing from the package and parses every documented variable.

The package uses nuke_comfyui/core/env.py (so a wheel carries it); env.py beside init.py is the
TDs' copy and must stay identical.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV_PY = REPO / "nuke_comfyui" / "core" / "env.py"
TD_COPY = REPO / "env.py"


@pytest.fixture(scope="module")
def env() -> ModuleType:
    spec = importlib.util.spec_from_file_location("env_under_test", ENV_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_py_beside_init_py_is_an_exact_copy_of_the_packaged_module() -> None:
    assert TD_COPY.read_bytes() == ENV_PY.read_bytes(), (
        "env.py and nuke_comfyui/core/env.py differ: edit nuke_comfyui/core/env.py, then "
        "cp nuke_comfyui/core/env.py env.py")


def test_the_loader_uses_the_packaged_module_not_a_file_beside_the_package() -> None:
    from nuke_comfyui.core import config_loader
    from nuke_comfyui.core import env as packaged

    assert config_loader.contract is packaged
    assert Path(packaged.__file__).resolve() == ENV_PY


def test_env_py_uses_only_the_standard_library() -> None:
    tree = ast.parse(ENV_PY.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {str(node.module).split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "json", "os", "re", "typing"}, imported
    # and it runs in a bare interpreter without the package on sys.path
    code = f"import runpy; m = runpy.run_path({str(ENV_PY)!r}); print(m['settings_path']({{}}))"
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd="/", check=True)
    assert out.stdout.strip().endswith(os.path.join(".nuke", "comfyui", "servers.json"))


def test_every_variable_is_documented(env: ModuleType) -> None:
    doc = env.__doc__ or ""
    names = [env.CONFIG, env.SERVERS, env.DATA_DIR, *env.CLUSTER_VARIABLES.values()]
    names += [f"NUKE_COMFYUI_{suffix}_<n>" for suffix in env.SERVER_FIELDS.values()]
    names += [f"NUKE_COMFYUI_{suffix}" for suffix in env.SERVER_FIELDS.values()]
    for name in names:
        assert name in doc, name
    assert "Precedence" in doc


def test_settings_path_and_data_dir_override(env: ModuleType) -> None:
    assert env.settings_path({"NUKE_COMFYUI_CONFIG": " /studio/comfy.json "}) == "/studio/comfy.json"
    assert env.settings_path({}) == os.path.join(os.path.expanduser("~"), ".nuke", "comfyui", "servers.json")
    assert env.data_dir_override({"NUKE_COMFYUI_DATA_DIR": "/d"}) == "/d"
    assert env.data_dir_override({"NUKE_COMFYUI_DATA_DIR": " "}) is None


def test_numbered_servers_in_order_with_gaps_and_names(env: ModuleType) -> None:
    found = env.servers_from_env({
        "NUKE_COMFYUI_IP_10": "10.0.0.10", "NUKE_COMFYUI_IP_2": "10.0.0.2", "NUKE_COMFYUI_PORT_2": " 8190 ",
        "NUKE_COMFYUI_NAME_2": "gpu02", "NUKE_COMFYUI_IP_1": "10.0.0.1", "NUKE_COMFYUI_IP_3": "",
    })
    assert [(s.source, s.fields["name"], s.fields["host"], s.fields.get("port")) for s in found] == [
        ("NUKE_COMFYUI_IP_1", "server1", "10.0.0.1", None),
        ("NUKE_COMFYUI_IP_2", "gpu02", "10.0.0.2", 8190),
        ("NUKE_COMFYUI_IP_10", "server10", "10.0.0.10", None)]
    assert found[1].variables["port"] == "NUKE_COMFYUI_PORT_2"


def test_dirs_imply_shared_and_tokens_stay_references(env: ModuleType) -> None:
    (server,) = env.servers_from_env({"NUKE_COMFYUI_IP_1": "h", "NUKE_COMFYUI_DIR_LOCAL_1": "U:/",
                                      "NUKE_COMFYUI_DIR_REMOTE_1": "/srv/comfy", "NUKE_COMFYUI_TOKEN_1": "s3cret"})
    assert server.fields["transfer"] == "shared"
    assert (server.fields["dir_local"], server.fields["dir_remote"]) == ("U:/", "/srv/comfy")
    assert server.fields["auth"] == {"kind": "bearer", "token": "${NUKE_COMFYUI_TOKEN_1}"}
    assert "s3cret" not in repr(server)


def test_single_server_variables(env: ModuleType) -> None:
    (server,) = env.servers_from_env({"NUKE_COMFYUI_PORT": "8189"})
    assert server.fields == {"name": "local", "host": "127.0.0.1", "port": 8189}
    assert server.source == "NUKE_COMFYUI_PORT"
    (server,) = env.servers_from_env({"NUKE_COMFYUI_IP": "10.1.1.1", "NUKE_COMFYUI_NAME": "box",
                                      "NUKE_COMFYUI_DIR_LOCAL": "/mnt/c", "NUKE_COMFYUI_DIR_REMOTE": "/c"})
    assert server.source == "NUKE_COMFYUI_IP" and server.fields["name"] == "box"
    assert server.fields["transfer"] == "shared"
    assert env.servers_from_env({"NUKE_COMFYUI_IP": "  "}) == []


def test_list_beats_numbered_beats_single(env: ModuleType) -> None:
    variables: Dict[str, str] = {"NUKE_COMFYUI_IP": "1.1.1.1"}
    assert env.servers_from_env(variables)[0].source == "NUKE_COMFYUI_IP"
    variables["NUKE_COMFYUI_IP_1"] = "2.2.2.2"
    assert env.servers_from_env(variables)[0].source == "NUKE_COMFYUI_IP_1"
    variables["NUKE_COMFYUI_SERVERS"] = '[{"name": "x", "host": "3.3.3.3"}]'
    assert [s.fields["host"] for s in env.servers_from_env(variables)] == ["3.3.3.3"]
    warnings = env.warnings(variables)
    assert any("NUKE_COMFYUI_IP_1 ignored" in w and "NUKE_COMFYUI_SERVERS" in w for w in warnings)
    assert any(w.startswith("NUKE_COMFYUI_IP ignored") for w in warnings)


def test_cluster_variables(env: ModuleType) -> None:
    assert env.cluster_from_env({}) == {}
    assert env.cluster_from_env({"NUKE_COMFYUI_STRATEGY": " priority ", "NUKE_COMFYUI_POLL_INTERVAL": "0.5",
                                 "NUKE_COMFYUI_TIMEOUT": "60", "NUKE_COMFYUI_RETRIES": "0"}) == \
        {"strategy": "priority", "poll_interval": 0.5, "job_timeout": 60.0, "retries": 0}


@pytest.mark.parametrize(("variables", "words"), [
    ({"NUKE_COMFYUI_SERVERS": "[{"}, ["NUKE_COMFYUI_SERVERS is not valid JSON", "line 1, column", "JSON array"]),
    ({"NUKE_COMFYUI_SERVERS": '{"name": "a"}'}, ["must be a JSON array", "not an object", "[ ]"]),
    ({"NUKE_COMFYUI_SERVERS": '[{"name": "a"}, 5]'}, ["server 2 is a number, not an object"]),
    ({"NUKE_COMFYUI_SERVERS": "[" * 100000}, ["NUKE_COMFYUI_SERVERS"]),
    ({"NUKE_COMFYUI_IP_1": "h", "NUKE_COMFYUI_PORT_1": "81a"}, ["NUKE_COMFYUI_PORT_1='81a'", "e.g. 8188"]),
    ({"NUKE_COMFYUI_PORT_3": "8188"}, ["NUKE_COMFYUI_PORT_3 is set but NUKE_COMFYUI_IP_3 is not",
                                       "unset NUKE_COMFYUI_PORT_3"]),
    ({"NUKE_COMFYUI_IP_1": "h", "NUKE_COMFYUI_DIR_LOCAL_1": "U:/"},
     ["NUKE_COMFYUI_DIR_LOCAL_1 is set but NUKE_COMFYUI_DIR_REMOTE_1 is not", "set both"]),
    ({"NUKE_COMFYUI_DIR_REMOTE": "/c"}, ["NUKE_COMFYUI_DIR_REMOTE is set but NUKE_COMFYUI_DIR_LOCAL is not"]),
    ({"NUKE_COMFYUI_POLL_INTERVAL": "fast"}, ["NUKE_COMFYUI_POLL_INTERVAL='fast'", "2.0"]),
    ({"NUKE_COMFYUI_RETRIES": "1.5"}, ["NUKE_COMFYUI_RETRIES", "whole number"]),
])
def test_unreadable_values_name_the_variable_and_fix(env: ModuleType, variables: Dict[str, str], words: list) -> None:
    with pytest.raises(env.EnvError) as caught:
        env.servers_from_env(variables)
        env.cluster_from_env(variables)
    for word in words:
        assert word in str(caught.value)


def test_misspelt_variables_are_reported(env: ModuleType) -> None:
    warnings = env.warnings({"NUKE_COMFYUI_PROT_1": "8188", "NUKE_COMFYUI_IP_1": "h", "OTHER": "x"})
    assert warnings == ["NUKE_COMFYUI_PROT_1 is not a nuke-comfyui variable; check its spelling "
                        "(env.py lists them all)"]
    assert env.warnings({"NUKE_COMFYUI_IP_1": "h", "NUKE_COMFYUI_CONFIG": "/x", "NUKE_COMFYUI_DATA_DIR": "/d",
                         "NUKE_COMFYUI_TIMEOUT": "3", "NUKE_COMFYUI_TOKEN": ""}) == []
