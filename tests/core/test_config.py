"""Configuration: models, sources and precedence, error messages, round trips, secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuke_comfyui.core.config import AuthConfig, ClusterConfig, ServerConfig
from nuke_comfyui.core.config_loader import DEFAULT_SOURCE, load_config, save_config
from nuke_comfyui.core.errors import ConfigError


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_nothing_configured_means_one_local_server(tmp_path: Path) -> None:
    loaded = load_config(environ={"NUKE_COMFYUI_CONFIG": str(tmp_path / "none.json")})
    assert [(s.name, s.base_url) for s in loaded.cluster.servers] == [("local", "http://127.0.0.1:8188")]
    assert loaded.sources == [DEFAULT_SOURCE]


def test_precedence_list_beats_numbered_beats_single_beats_file(tmp_path: Path) -> None:
    settings_file = write(tmp_path / "s.json", {"servers": [{"name": "from-file"}], "strategy": "priority",
                                                "poll_interval": 5})
    env: Dict[str, str] = {"NUKE_COMFYUI_CONFIG": str(settings_file)}
    assert [s.name for s in load_config(environ=env).cluster.servers] == ["from-file"]
    env["NUKE_COMFYUI_IP"] = "10.0.0.9"
    assert [s.host for s in load_config(environ=env).cluster.servers] == ["10.0.0.9"]
    env.update({"NUKE_COMFYUI_IP_1": "10.0.0.1", "NUKE_COMFYUI_IP_2": "10.0.0.2", "NUKE_COMFYUI_PORT_2": "8190"})
    loaded = load_config(environ=env)
    assert [(s.host, s.port) for s in loaded.cluster.servers] == [("10.0.0.1", 8188), ("10.0.0.2", 8190)]
    assert loaded.sources == ["NUKE_COMFYUI_IP_1", "NUKE_COMFYUI_IP_2"]
    env["NUKE_COMFYUI_SERVERS"] = json.dumps([{"name": "listed", "host": "10.0.0.7"}])
    loaded = load_config(environ=env)
    assert [s.name for s in loaded.cluster.servers] == ["listed"]
    # cluster settings: file, then environment wins
    assert loaded.cluster.strategy == "priority" and loaded.cluster.poll_interval == 5
    env["NUKE_COMFYUI_STRATEGY"] = "round-robin"
    assert load_config(environ=env).cluster.strategy == "round-robin"


def test_dir_variables_mean_shared_storage_and_tokens_stay_references() -> None:
    env = {"NUKE_COMFYUI_IP": "10.0.0.5", "NUKE_COMFYUI_DIR_LOCAL": "U:/", "NUKE_COMFYUI_DIR_REMOTE": "/srv/ComfyUI/",
           "NUKE_COMFYUI_IP_1": "", "NUKE_COMFYUI_CONFIG": "/nonexistent/x.json"}
    server = load_config(environ=env).cluster.servers[0]
    assert server.transfer == "shared" and server.mapping.to_remote("U:/input/a.png") == "/srv/ComfyUI/input/a.png"
    env2 = {"NUKE_COMFYUI_IP_1": "10.0.0.5", "NUKE_COMFYUI_TOKEN_1": "s3cret", "NUKE_COMFYUI_CONFIG": "/none.json"}
    server = load_config(environ=env2).cluster.servers[0]
    assert server.auth is not None and server.auth.token == "${NUKE_COMFYUI_TOKEN_1}"
    assert server.auth.headers(env2) == {"Authorization": "Bearer s3cret"}
    assert "s3cret" not in repr(server) and "s3cret" not in str(server.redacted())


@pytest.mark.parametrize(("server", "words"), [
    ({"name": "gpu01", "port": 70000}, ["port", "1-65535"]),
    ({"name": "gpu01", "url": "ftp://x"}, ["url", "http://"]),
    ({"name": "gpu01", "max_concurrent": 0}, ["max_concurrent", "at least 1"]),
    ({"name": "gpu01", "transfer": "shared"}, ["dir_local", "upload"]),
    ({"name": "gpu01", "colour": "red"}, ["'colour'", "unknown key"]),
    ({"name": "gpu01", "auth": {"kind": "bearer"}}, ["auth", "token"]),
    ({"port": 8188}, ["'name'", "required"]),
])
def test_bad_values_name_source_server_field_and_fix(tmp_path: Path, server: Dict[str, Any], words: list) -> None:
    path = write(tmp_path / "studio.json", {"servers": [{"name": "ok"}, server]})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "server 2" in message
    for word in words:
        assert word in message


def test_duplicate_names_and_bad_cluster_values_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server 2 \('A'\): field 'name': server 1 .*same name"):
        load_config(write(tmp_path / "d.json", {"servers": [{"name": "a"}, {"name": "A", "port": 2}]}))
    with pytest.raises(ConfigError, match="poll_interval"):
        load_config(write(tmp_path / "p.json", {"servers": [{"name": "a"}], "poll_interval": 0}))
    with pytest.raises(ConfigError, match="NUKE_COMFYUI_PORT_1"):
        load_config(environ={"NUKE_COMFYUI_IP_1": "h", "NUKE_COMFYUI_PORT_1": "x"})
    with pytest.raises(ConfigError, match="NUKE_COMFYUI_SERVERS is not valid JSON"):
        load_config(environ={"NUKE_COMFYUI_SERVERS": "[{"})


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", '{\n  "servers": [\n    {"name": "a",}\n  ]\n}')
    with pytest.raises(ConfigError, match=r"line 3, column \d+"):
        load_config(path)


def test_missing_env_reference_is_a_config_error_naming_it() -> None:
    auth = AuthConfig(kind="basic", username="u", password="${STUDIO_PW}")
    with pytest.raises(ConfigError, match=r"\$\{STUDIO_PW\}.*STUDIO_PW"):
        auth.headers({}, server="gpu01")
    assert "STUDIO_PW" in repr(auth)  # references may be shown, values never


def test_save_then_load_round_trips_exactly(tmp_path: Path) -> None:
    cluster = ClusterConfig(servers=[
        ServerConfig(name="a", host="10.0.0.1", priority=3, job_types=["upscale"], max_concurrent=2),
        ServerConfig(name="b", url="https://comfy.example:443", transfer="shared", dir_local="U:/",
                     dir_remote="/c/", auth=AuthConfig(kind="bearer", token="${TOK}"), verify_tls=False),
    ], strategy="least-loaded", job_timeout=120, retries=4)
    path = save_config(cluster, tmp_path / "nested" / "servers.json")
    assert load_config(path).cluster == cluster
    assert "${TOK}" in path.read_text()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                      max_size=3), max_leaves=8)
server_keys = st.sampled_from(["name", "host", "port", "url", "dir_local", "dir_remote", "priority", "enabled",
                               "job_types", "max_concurrent", "transfer", "auth", "verify_tls", "bogus"])


@settings(max_examples=150, deadline=None)
@given(st.one_of(json_values, st.dictionaries(st.sampled_from(["servers", "strategy", "retries", "x"]), json_values),
                 st.fixed_dictionaries({"servers": st.lists(st.dictionaries(server_keys, json_values), max_size=3)})))
def test_any_malformed_file_raises_only_config_error(tmp_path_factory: pytest.TempPathFactory, data: Any) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "servers.json"
    path.write_text(json.dumps(data))
    try:
        load_config(path)
    except ConfigError as exc:  # the only exception allowed, and it must say something
        assert str(exc)
