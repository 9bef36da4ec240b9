"""Config models on their own: defaults, validation messages, base_url, mapping, secrets kept out of logs."""

from __future__ import annotations

import math
from typing import Any, Dict, List

import pytest
from pydantic import ValidationError

from nuke_comfyui.core.config import AuthConfig, ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import ConfigError
from nuke_comfyui.core.paths import PathMapping


def messages(exc: ValidationError) -> str:
    return " | ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def test_defaults_follow_the_architecture_contract() -> None:
    server = ServerConfig(name="gpu01")
    assert (server.host, server.port, server.url, server.transfer, server.max_concurrent) == \
        ("127.0.0.1", 8188, None, "upload", 1)
    assert server.enabled and server.verify_tls and server.job_types == [] and server.auth is None
    cluster = ClusterConfig(servers=[server])
    assert (cluster.strategy, cluster.poll_interval, cluster.job_timeout, cluster.retries) == ("fastest", 2.0, 300.0, 2)


@pytest.mark.parametrize(("fields", "url"), [
    ({}, "http://127.0.0.1:8188"),
    ({"host": "10.0.0.5", "port": 8190}, "http://10.0.0.5:8190"),
    ({"host": "10.0.0.5", "url": "https://comfy.lan:8443/"}, "https://comfy.lan:8443"),
    ({"url": "HTTPS://Comfy.lan/proxy/comfy//"}, "https://Comfy.lan/proxy/comfy"),
])
def test_base_url_url_wins_and_has_no_trailing_slash(fields: Dict[str, Any], url: str) -> None:
    assert ServerConfig(name="a", **fields).base_url == url


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"port": 0}, "port", ["1-65535", "8188"]),
    ({"port": 65536}, "port", ["1-65535"]),
    ({"port": True}, "port", ["must be a number, not true"]),
    ({"priority": False}, "priority", ["must be a number"]),
    ({"priority": 1.5}, "priority", ["integer"]),
    ({"url": "ftp://host"}, "url", ["http://", "https://"]),
    ({"url": "http://"}, "url", ["followed by a host"]),
    ({"url": "http://host/a b"}, "url", ["http://"]),
    ({"max_concurrent": 0}, "max_concurrent", ["at least 1"]),
    ({"name": "  "}, "name", ["must not be empty", "unique"]),
    ({"host": "10.0.0.5/comfy"}, "host", ["'url'"]),
    ({"transfer": "shared", "dir_local": "U:/"}, "transfer", ["dir_local and dir_remote", "upload"]),
    ({"transfer": "rsync"}, "transfer", ["'shared'", "'upload'"]),
    ({"dir_local": "shots/comfy"}, "dir_local", ["not an absolute path", "U:/"]),
    ({"dir_remote": "~/ComfyUI"}, "dir_remote", ["not an absolute path"]),
    ({"job_types": ["upscale", " "]}, "job_types", ["empty"]),
    ({"auth": {"kind": "bearer"}}, "auth", ["token", "${ENV_VAR}"]),
    ({"auth": {"kind": "basic", "username": "u"}}, "auth", ["username and password"]),
    ({"auth": {"kind": "bearer", "token": "x", "realm": "r"}}, "auth.realm", ["Extra inputs"]),
    ({"colour": "red"}, "colour", ["Extra inputs"]),
])
def test_server_validation_names_field_and_fix(fields: Dict[str, Any], field: str, words: List[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        ServerConfig(**{"name": "gpu01", **fields})
    text = messages(caught.value)
    assert text.startswith(field + ":"), text
    for word in words:
        assert word in text


@pytest.mark.parametrize(("fields", "words"), [
    ({"poll_interval": 0}, ["poll_interval", "positive"]),
    ({"poll_interval": math.nan}, ["poll_interval", "positive"]),
    ({"job_timeout": math.inf}, ["job_timeout", "positive"]),
    ({"stats_interval": -1}, ["stats_interval"]),
    ({"retries": -1}, ["retries", "0 or more"]),
    ({"retries": True}, ["retries", "not true"]),
    ({"strategy": "random"}, ["strategy", "'fastest'"]),
    ({"servers": [{"name": "a"}, {"name": "A"}]}, ["servers 1 and 2", "'A'", "rename"]),
])
def test_cluster_validation_names_field_and_fix(fields: Dict[str, Any], words: List[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        ClusterConfig(**{"servers": [{"name": "a"}], **fields})
    text = messages(caught.value)
    for word in words:
        assert word in text


def test_mapping_is_built_from_the_dirs_or_none() -> None:
    assert ServerConfig(name="a").mapping is None
    assert ServerConfig(name="a", dir_local="U:/").mapping is None
    server = ServerConfig(name="a", dir_local="U:/", dir_remote="/home/user/ComfyUI/", transfer="shared")
    assert server.mapping == PathMapping("U:/", "/home/user/ComfyUI/")
    assert server.mapping is not None
    assert server.mapping.to_remote("U:\\input\\a.png") == "/home/user/ComfyUI/input/a.png"


def test_env_references_expand_only_when_headers_are_built() -> None:
    server = ServerConfig(name="gpu01", auth=AuthConfig(kind="bearer", token="${STUDIO_TOKEN}"))
    assert server.auth is not None and server.auth.token == "${STUDIO_TOKEN}"
    assert server.auth_headers({"STUDIO_TOKEN": "abc"}) == {"Authorization": "Bearer abc"}
    basic = AuthConfig(kind="basic", username="render", password="pre-${PW}-post")
    assert basic.headers({"PW": "x"}) == {"Authorization": "Basic cmVuZGVyOnByZS14LXBvc3Q="}  # render:pre-x-post
    assert ServerConfig(name="plain").auth_headers({}) == {}


def test_missing_variable_names_variable_and_server() -> None:
    server = ServerConfig(name="gpu07", auth={"kind": "bearer", "token": "${FARM_TOKEN}"})
    assert server.auth is not None
    for call in (lambda: server.auth_headers({}), lambda: server.auth.headers({})):  # type: ignore[union-attr]
        with pytest.raises(ConfigError) as caught:
            call()
        text = str(caught.value)
        assert "${FARM_TOKEN}" in text and "'gpu07'" in text and "set the environment variable FARM_TOKEN" in text


def test_secrets_never_in_repr_str_or_redacted_dump() -> None:
    literal = ServerConfig(name="a", auth=AuthConfig(kind="basic", username="bob", password="hunter2"))
    referenced = ServerConfig(name="b", auth=AuthConfig(kind="bearer", token="${TOK}"))
    cluster = ClusterConfig(servers=[literal, referenced])
    for text in (repr(literal), str(literal), repr(literal.auth), str(cluster), repr(cluster),
                 str(cluster.redacted()), str(literal.redacted())):
        assert "hunter2" not in text
    assert "${TOK}" in str(cluster.redacted())  # a reference is not a secret and helps the TD
    assert cluster.redacted()["servers"][0]["auth"]["password"] == "***"
    # model_dump is what gets saved: it keeps values exactly as written
    assert cluster.model_dump()["servers"][1]["auth"]["token"] == "${TOK}"
    assert cluster.model_dump()["servers"][0]["auth"]["password"] == "hunter2"


def test_validators_are_idempotent_so_dumps_round_trip() -> None:
    server = ServerConfig(name=" gpu01 ", url="HTTP://Host:81/", job_types=[" a "], dir_local=" U:/ ")
    again = ServerConfig(**server.model_dump())
    assert again == server and again.name == "gpu01" and again.url == "http://Host:81"
