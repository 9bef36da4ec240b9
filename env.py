"""The nuke-comfyui environment-variable contract, readable on its own (stdlib only).

A studio configures the farm for everyone with environment variables (set by the launcher or the
farm's job environment) or with one JSON settings file. This module names every variable and turns
the environment into plain dicts; `nuke_comfyui.core.config_loader` validates them.

Variables
---------
NUKE_COMFYUI_CONFIG          settings file (JSON). Default: ~/.nuke/comfyui/servers.json
NUKE_COMFYUI_SERVERS         JSON array of server objects, e.g.
                             [{"name": "gpu01", "host": "10.0.0.5", "port": 8188}]
NUKE_COMFYUI_IP_<n>          numbered servers, n = 1, 2, ... (stops at the first gap):
NUKE_COMFYUI_PORT_<n>          port (default 8188)
NUKE_COMFYUI_NAME_<n>          name (default "server<n>")
NUKE_COMFYUI_DIR_LOCAL_<n>     shared ComfyUI folder as this machine sees it (e.g. U:/)
NUKE_COMFYUI_DIR_REMOTE_<n>    the same folder as the server sees it (e.g. /home/user/ComfyUI/)
NUKE_COMFYUI_TOKEN_<n>         bearer token for a proxy in front of the server
NUKE_COMFYUI_IP              a single server (used when no list or numbered variable is set),
NUKE_COMFYUI_PORT, NUKE_COMFYUI_DIR_LOCAL, NUKE_COMFYUI_DIR_REMOTE
NUKE_COMFYUI_STRATEGY        fastest | least-loaded | round-robin | priority
NUKE_COMFYUI_POLL_INTERVAL   seconds between load probes
NUKE_COMFYUI_TIMEOUT         seconds a job may run before it is interrupted and retried
NUKE_COMFYUI_DATA_DIR        folder for the job journal (default: the per-user data folder)

Setting both DIR variables of a server makes its transfer "shared"; otherwise frames are uploaded.

Precedence
----------
Servers come from the first of these that defines any: NUKE_COMFYUI_SERVERS, numbered variables,
single-server variables, the settings file; with none, one server "local" at 127.0.0.1:8188.
Cluster settings (strategy, poll interval, timeout, ...) start from defaults, then the settings
file, then the variables above: a variable always wins, so a farm job can override a studio file.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

PREFIX = "NUKE_COMFYUI_"
CONFIG = PREFIX + "CONFIG"
SERVERS = PREFIX + "SERVERS"
DATA_DIR = PREFIX + "DATA_DIR"
STRATEGY = PREFIX + "STRATEGY"
POLL_INTERVAL = PREFIX + "POLL_INTERVAL"
TIMEOUT = PREFIX + "TIMEOUT"
SINGLE = {"host": PREFIX + "IP", "port": PREFIX + "PORT",
          "dir_local": PREFIX + "DIR_LOCAL", "dir_remote": PREFIX + "DIR_REMOTE"}
NUMBERED = {"host": "IP", "port": "PORT", "name": "NAME", "dir_local": "DIR_LOCAL",
            "dir_remote": "DIR_REMOTE", "token": "TOKEN"}

Source = str  # where a server came from, e.g. "NUKE_COMFYUI_IP_2"


class EnvError(ValueError):
    """A variable's value cannot be read (the loader turns it into a ConfigError)."""


def servers_from_env(environ: Optional[Mapping[str, str]] = None) -> List[Tuple[Source, Dict[str, Any]]]:
    """Raw server dicts from the environment, each with the variable it came from (may be empty)."""
    env = os.environ if environ is None else environ
    if env.get(SERVERS, "").strip():
        return _server_list(env[SERVERS])
    numbered = _numbered(env)
    if numbered:
        return numbered
    if env.get(SINGLE["host"], "").strip():
        return [(SINGLE["host"], _server_fields(env, SINGLE, name="local", where=SINGLE["host"]))]
    return []


def cluster_from_env(environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Cluster-level overrides present in the environment."""
    env = os.environ if environ is None else environ
    out: Dict[str, Any] = {}
    if env.get(STRATEGY, "").strip():
        out["strategy"] = env[STRATEGY].strip()
    for key, name in (("poll_interval", POLL_INTERVAL), ("job_timeout", TIMEOUT)):
        if env.get(name, "").strip():
            out[key] = _number(env[name], name, float)
    return out


def settings_path(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(CONFIG, "").strip() or os.path.join(os.path.expanduser("~"), ".nuke", "comfyui", "servers.json")


def _server_list(text: str) -> List[Tuple[Source, Dict[str, Any]]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnvError(f"{SERVERS} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                       'write a JSON array such as [{"name": "gpu01", "host": "10.0.0.5"}]') from None
    if not isinstance(value, list):
        raise EnvError(f"{SERVERS} must be a JSON array of server objects, not {type(value).__name__}")
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise EnvError(f"{SERVERS}[{index}] must be an object like {{\"name\": ..., \"host\": ...}}")
        out.append((f"{SERVERS}[{index}]", dict(item)))
    return out


def _numbered(env: Mapping[str, str]) -> List[Tuple[Source, Dict[str, Any]]]:
    out = []
    n = 1
    while env.get(f"{PREFIX}IP_{n}", "").strip():
        names = {field: f"{PREFIX}{suffix}_{n}" for field, suffix in NUMBERED.items()}
        out.append((names["host"], _server_fields(env, names, name=f"server{n}", where=names["host"])))
        n += 1
    return out


def _server_fields(env: Mapping[str, str], names: Mapping[str, str], *, name: str, where: str) -> Dict[str, Any]:
    server: Dict[str, Any] = {"name": env.get(names.get("name", ""), "").strip() or name,
                              "host": env[names["host"]].strip()}
    if env.get(names["port"], "").strip():
        server["port"] = _number(env[names["port"]], names["port"], int)
    local, remote = env.get(names["dir_local"], "").strip(), env.get(names["dir_remote"], "").strip()
    if local or remote:
        server.update(dir_local=local, dir_remote=remote, transfer="shared")
    if env.get(names.get("token", ""), "").strip():
        server["auth"] = {"kind": "bearer", "token": f"${{{names['token']}}}"}  # never copy the secret itself
    return server


def _number(text: str, name: str, kind: Any) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        raise EnvError(f"{name}={text!r} is not a {'whole ' if kind is int else ''}number; "
                       f"set it to e.g. {'8188' if kind is int else '2.0'}") from None
