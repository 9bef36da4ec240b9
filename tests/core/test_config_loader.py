"""The loader: full precedence chain, every error path's message, warnings, atomic save, fuzzing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.config import AuthConfig, ClusterConfig, ServerConfig
from nuke_comfyui.core.config_loader import DEFAULT_SOURCE, default_config_path, load_config, save_config
from nuke_comfyui.core.errors import ConfigError


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def error_of(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(*args, **kwargs)
    return str(caught.value)


def test_full_precedence_chain_down_to_the_default(tmp_path: Path) -> None:
    settings_file = write(tmp_path / "s.json", {"servers": [{"name": "filed"}], "poll_interval": 7,
                                                "strategy": "priority"})
    env: Dict[str, str] = {"NUKE_COMFYUI_CONFIG": str(settings_file), "NUKE_COMFYUI_SERVERS": '[{"name": "listed"}]',
                           "NUKE_COMFYUI_IP_1": "10.0.0.1", "NUKE_COMFYUI_IP": "10.0.0.9"}
    expected = [(["listed"], ["NUKE_COMFYUI_SERVERS"]), (["server1"], ["NUKE_COMFYUI_IP_1"]),
                (["local"], ["NUKE_COMFYUI_IP"]), (["filed"], [f"file {settings_file}"])]
    for names, sources in expected:
        loaded = load_config(environ=env)
        assert ([s.name for s in loaded.cluster.servers], loaded.sources) == (names, sources)
        assert loaded.path == settings_file
        assert loaded.cluster.poll_interval == 7  # cluster settings still come from the file
        for key in ("NUKE_COMFYUI_SERVERS", "NUKE_COMFYUI_IP_1", "NUKE_COMFYUI_IP"):
            if key in env:
                del env[key]
                break
    settings_file.unlink()
    loaded = load_config(environ=env)
    assert [(s.name, s.base_url) for s in loaded.cluster.servers] == [("local", "http://127.0.0.1:8188")]
    assert loaded.sources == [DEFAULT_SOURCE] and not loaded.from_environment(0)


def test_cluster_settings_defaults_then_file_then_environment(tmp_path: Path) -> None:
    path = write(tmp_path / "s.json", {"servers": [{"name": "a"}], "poll_interval": 7, "job_timeout": 60,
                                       "retries": 5})
    env = {"NUKE_COMFYUI_POLL_INTERVAL": "0.5", "NUKE_COMFYUI_TIMEOUT": "90"}
    cluster = load_config(path, environ=env).cluster
    assert (cluster.poll_interval, cluster.job_timeout, cluster.retries, cluster.strategy) == (0.5, 90.0, 5, "fastest")


def test_empty_server_list_in_the_file_falls_back_to_the_local_default(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path / "s.json", {"servers": []}), environ={})
    assert [s.name for s in loaded.cluster.servers] == ["local"]


def test_default_settings_path(tmp_path: Path) -> None:
    assert default_config_path({"NUKE_COMFYUI_CONFIG": "~/x.json"}) == Path("~/x.json").expanduser()
    assert default_config_path({}) == Path.home() / ".nuke" / "comfyui" / "servers.json"


@pytest.mark.parametrize(("content", "words"), [
    ('{"servers": [{"name": "a",}]}', ["not valid JSON", "line 1, column 27"]),
    ('{"servers": [], "servers": []}', ["'servers' twice", "keep only one"]),
    ('{"servers": [{"name": "a", "port": 1, "port": 2}]}', ["'port' twice"]),
    ("[" * 50000, ["nested too deeply"]),
    ("[]", ["must hold a JSON object", "not list"]),
    ('{"servers": {"name": "a"}}', ["'servers' must be a list", "not dict"]),
    ('{"servers": ["gpu01"]}', ["server 1 must be an object", "not str"]),
    ('{"servers": [{"name": "a"}], "stratgy": "priority"}', ["cluster setting: field 'stratgy'", "unknown key"]),
    ('{"servers": [{"name": "a"}], "retries": "lots"}', ["field 'retries'", 'got "lots"']),
    ('{"servers": [{"name": "a"}, {"name": "b", "port": "http"}]}', ["server 2 ('b'): field 'port'", 'got "http"']),
    ('{"servers": [{"name": "a"}, {"name": "b", "auth": {"kind": "bearer", "tokn": "x"}}]}',
     ["server 2 ('b'): field 'auth.tokn': unknown key"]),
])
def test_file_errors_name_the_file_server_field_and_fix(tmp_path: Path, content: str, words: List[str]) -> None:
    path = write(tmp_path / "studio.json", content)
    message = error_of(path, environ={})
    assert str(path) in message
    for word in words:
        assert word in message


def test_file_read_errors(tmp_path: Path) -> None:
    assert "does not exist" in error_of(tmp_path / "missing.json")
    (tmp_path / "folder.json").mkdir()
    assert "is a folder" in error_of(environ={"NUKE_COMFYUI_CONFIG": str(tmp_path / "folder.json")})
    (tmp_path / "latin1.json").write_bytes(b'{"servers": [{"name": "caf\xe9"}]}')
    assert "not UTF-8" in error_of(tmp_path / "latin1.json")


@pytest.mark.parametrize(("env", "words"), [
    ({"NUKE_COMFYUI_IP_1": "h", "NUKE_COMFYUI_IP_2": "h2", "NUKE_COMFYUI_PORT_2": "99999"},
     ["NUKE_COMFYUI_PORT_2: server 2 ('server2'): field 'port'", "1-65535"]),
    ({"NUKE_COMFYUI_IP_1": "h", "NUKE_COMFYUI_DIR_LOCAL_1": "shots", "NUKE_COMFYUI_DIR_REMOTE_1": "/c"},
     ["NUKE_COMFYUI_DIR_LOCAL_1: server 1 ('server1'): field 'dir_local'", "not an absolute path"]),
    ({"NUKE_COMFYUI_IP": "10.0.0.5/comfy"}, ["NUKE_COMFYUI_IP: server 1 ('local'): field 'host'", "'url'"]),
    ({"NUKE_COMFYUI_IP_1": "a", "NUKE_COMFYUI_NAME_1": "x", "NUKE_COMFYUI_IP_2": "b", "NUKE_COMFYUI_NAME_2": "X"},
     ["NUKE_COMFYUI_IP_2: server 2 ('X'): field 'name'", "server 1 (from NUKE_COMFYUI_IP_1)", "unique"]),
    ({"NUKE_COMFYUI_SERVERS": '[{"name": "a", "max_concurrent": 0}]'},
     ["NUKE_COMFYUI_SERVERS: server 1 ('a'): field 'max_concurrent'", "at least 1"]),
    ({"NUKE_COMFYUI_STRATEGY": "random"}, ["NUKE_COMFYUI_STRATEGY: cluster setting: field 'strategy'", "'fastest'"]),
    ({"NUKE_COMFYUI_POLL_INTERVAL": "0"}, ["NUKE_COMFYUI_POLL_INTERVAL: cluster setting", "positive"]),
    ({"NUKE_COMFYUI_TIMEOUT": "soon"}, ["NUKE_COMFYUI_TIMEOUT='soon'", "number"]),
    ({"NUKE_COMFYUI_SERVERS": "[1"}, ["NUKE_COMFYUI_SERVERS is not valid JSON", "line 1, column 3"]),
])
def test_environment_errors_name_the_variable_server_field_and_fix(env: Dict[str, str], words: List[str]) -> None:
    message = error_of(environ=env)
    for word in words:
        assert word in message, message


def test_secrets_never_appear_in_error_messages(tmp_path: Path) -> None:
    path = write(tmp_path / "s.json", {"servers": [{"name": "a", "auth": {"kind": "bearer", "token": 987654321}}]})
    message = error_of(path)
    assert "field 'auth.token'" in message and "987654321" not in message


def test_warnings_for_ignored_and_misspelt_sources(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "s.json", {"servers": [{"name": "filed"}]})
    loaded = load_config(environ={"NUKE_COMFYUI_CONFIG": str(path), "NUKE_COMFYUI_IP": "h", "NUKE_COMFYUI_PROT": "1"})
    assert any("servers in settings file" in w and "ignored" in w for w in loaded.warnings)
    assert any("NUKE_COMFYUI_PROT is not a nuke-comfyui variable" in w for w in loaded.warnings)
    assert "NUKE_COMFYUI_PROT" in caplog.text
    missing = load_config(environ={"NUKE_COMFYUI_CONFIG": str(tmp_path / "later.json")})
    assert any("does not exist yet" in w for w in missing.warnings)


def test_save_is_atomic_keeps_references_and_permissions(tmp_path: Path) -> None:
    cluster = ClusterConfig(servers=[ServerConfig(name="a", auth=AuthConfig(kind="bearer", token="${TOK}"))])
    target = tmp_path / "servers.json"
    write(target, "{}")
    os.chmod(target, 0o640)
    save_config(cluster, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert json.loads(target.read_text())["servers"][0]["auth"]["token"] == "${TOK}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["servers.json"]  # no temp file left behind
    secret = ClusterConfig(servers=[ServerConfig(name="a", auth=AuthConfig(kind="bearer", token="literal"))])
    assert stat.S_IMODE(save_config(secret, tmp_path / "new.json").stat().st_mode) == 0o600


def test_failed_save_leaves_the_old_file_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write(tmp_path / "servers.json", '{"servers": [{"name": "old"}]}')

    def refuse(*_args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        save_config(ClusterConfig(servers=[ServerConfig(name="new")]), target)
    assert "old" in target.read_text() and sorted(p.name for p in tmp_path.iterdir()) == ["servers.json"]


def test_save_defaults_to_the_per_user_settings_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUKE_COMFYUI_CONFIG", str(tmp_path / "deep" / "user.json"))
    assert save_config(ClusterConfig(servers=[ServerConfig(name="x")])) == tmp_path / "deep" / "user.json"
    assert [s.name for s in load_config().cluster.servers] == ["x"]


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
auths = st.none() | st.builds(AuthConfig, kind=st.just("bearer"), token=st.sampled_from(["${T}", "lit", "${A_1}"])) \
    | st.builds(AuthConfig, kind=st.just("basic"), username=names, password=st.sampled_from(["${P}", "pw", ""]))
servers = st.builds(
    ServerConfig, name=names, host=st.sampled_from(["127.0.0.1", "gpu01", "10.0.0.5"]),
    port=st.integers(1, 65535), url=st.none() | st.sampled_from(["https://comfy.lan", "http://h:81/sub"]),
    priority=st.integers(-10**6, 10**6), enabled=st.booleans(), job_types=st.lists(names, max_size=2),
    max_concurrent=st.integers(1, 8), auth=auths, verify_tls=st.booleans(),
    transfer=st.just("upload"), dir_local=st.sampled_from(["", "U:/", "\\\\srv\\share"]),
    dir_remote=st.sampled_from(["", "/mnt/comfy"]))
clusters = st.builds(
    ClusterConfig, servers=st.lists(servers, min_size=1, max_size=4, unique_by=lambda s: s.name),
    strategy=st.sampled_from(["round-robin", "least-loaded", "priority", "fastest"]),
    poll_interval=st.floats(0.01, 1e6), stats_interval=st.floats(0.01, 1e6), job_timeout=st.floats(0.01, 1e6),
    retries=st.integers(0, 100))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(clusters)
def test_save_then_load_round_trips_any_valid_cluster(tmp_path: Path, cluster: ClusterConfig) -> None:
    path = save_config(cluster, tmp_path / "rt.json")
    loaded = load_config(path, environ={})
    assert loaded.cluster == cluster
    assert loaded.cluster.model_dump() == cluster.model_dump()  # exactly, secrets and references included


text_values = st.text(max_size=12) | st.sampled_from(["8188", "0", "-1", "1e999", "nan", "U:/", "[", "[{}]", "{}",
                                                      '[{"name": 1}]', '[{"name": "a", "port": true}]', " "])
variable_names = st.sampled_from(["NUKE_COMFYUI_SERVERS", "NUKE_COMFYUI_IP", "NUKE_COMFYUI_PORT", "NUKE_COMFYUI_IP_1",
                                  "NUKE_COMFYUI_PORT_1", "NUKE_COMFYUI_DIR_LOCAL_1", "NUKE_COMFYUI_DIR_REMOTE_1",
                                  "NUKE_COMFYUI_NAME_2", "NUKE_COMFYUI_IP_2", "NUKE_COMFYUI_TOKEN_1",
                                  "NUKE_COMFYUI_STRATEGY", "NUKE_COMFYUI_POLL_INTERVAL", "NUKE_COMFYUI_TIMEOUT",
                                  "NUKE_COMFYUI_RETRIES", "NUKE_COMFYUI_DIR_LOCAL", "NUKE_COMFYUI_DIR_REMOTE"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(variable_names, text_values, max_size=5))
def test_any_environment_raises_only_config_error(env: Dict[str, str]) -> None:
    env = {key: value.replace("\x00", "") for key, value in env.items()}
    env["NUKE_COMFYUI_CONFIG"] = "/nonexistent/nuke-comfyui-fuzz.json"
    try:
        loaded = load_config(environ=env)
    except ConfigError as exc:
        assert str(exc).strip()
    else:
        assert loaded.cluster.servers and len(loaded.sources) == len(loaded.cluster.servers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")) |
       st.sampled_from(['{"servers": [{"name": "a", "auth": {"kind": "basic"}}]}', '{"servers": [null]}',
                        '{"retries": 1e400, "servers": [{"name": "a"}]}', '{"poll_interval": NaN}',
                        '{"servers": [{"name": "a", "priority": 1e400}]}', '{"servers": [{"name": "\\ud800"}]}']))
def test_any_file_text_raises_only_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load_config(path, environ={})
    except ConfigError as exc:
        assert str(path) in str(exc)
