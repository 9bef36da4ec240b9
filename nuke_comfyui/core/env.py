"""The nuke-comfyui environment-variable contract, readable on its own (stdlib only).

This file is `nuke_comfyui/core/env.py`, the module the package uses (so an installed wheel has
it); `env.py` beside init.py is a byte-for-byte copy for TDs to read next to the plugin
(tests/core/test_env.py fails when they differ: copy this file over it).

A studio configures the farm for everyone with environment variables (set by the launcher, a
wrapper script or the render farm's job environment) or with one JSON settings file. This module
names every variable and turns the environment into plain dicts; `nuke_comfyui.core.config_loader`
validates them and reports problems as ConfigError. Nothing here imports the package.

Variables
---------
NUKE_COMFYUI_CONFIG          settings file (JSON). Default: ~/.nuke/comfyui/servers.json
                             (on Windows the same folder under the user's home directory).
NUKE_COMFYUI_SERVERS         JSON array of server objects, exactly as in the settings file, e.g.
                             [{"name": "gpu01", "host": "10.0.0.5", "port": 8188}]
NUKE_COMFYUI_IP_<n>          numbered servers, n = 1, 2, ... (gaps are fine; order is by n):
NUKE_COMFYUI_PORT_<n>          port (default 8188)
NUKE_COMFYUI_NAME_<n>          name (default "server<n>")
NUKE_COMFYUI_DIR_LOCAL_<n>     shared ComfyUI folder as this machine sees it (e.g. U:/)
NUKE_COMFYUI_DIR_REMOTE_<n>    the same folder as the server sees it (e.g. /home/user/ComfyUI/)
NUKE_COMFYUI_TOKEN_<n>         bearer token for a proxy in front of the server
NUKE_COMFYUI_IP              one server (used when no list or numbered variable is set), with
NUKE_COMFYUI_PORT,           NUKE_COMFYUI_NAME (default "local") and NUKE_COMFYUI_TOKEN; any of
NUKE_COMFYUI_DIR_LOCAL,      them defines the server (host then defaults to 127.0.0.1, so
NUKE_COMFYUI_DIR_REMOTE      NUKE_COMFYUI_PORT=8189 alone means a local server on port 8189).
NUKE_COMFYUI_STRATEGY        fastest | least-loaded | round-robin | priority
NUKE_COMFYUI_POLL_INTERVAL   seconds between load probes (default 2)
NUKE_COMFYUI_TIMEOUT         seconds a job may run before it is interrupted and retried (default 300)
NUKE_COMFYUI_RETRIES         extra attempts after a failed one (default 2)
NUKE_COMFYUI_DATA_DIR        folder for the job journal (default: the per-user data folder)
NUKE_COMFYUI_WORKFLOWS       the studio workflows folder: its *.json files fill the node's pick list
                             (the settings file's "workflows_folder"; this variable wins over it)

Setting both DIR variables of a server makes its transfer "shared" (frames are read and written
through the shared folder); setting only one of them is an error. Without them frames are uploaded.
A token variable is stored as the reference ${NUKE_COMFYUI_TOKEN_<n>}: saving the settings never
copies the secret into a file, and it is read only when request headers are built.

Precedence
----------
Servers come from the first of these that defines any: NUKE_COMFYUI_SERVERS, numbered variables,
single-server variables, the settings file; with none of them, one server "local" at 127.0.0.1:8188.
Sources are never merged: the lower ones are ignored (and reported as a warning), so what a farm
job or launcher sets is exactly what runs.
Cluster settings (strategy, poll interval, timeout, retries, workflows folder) start from defaults, then the settings
file, then the variables above: a variable always wins, so a farm job can override a studio file.
Empty variables count as unset, but NUKE_COMFYUI_SERVERS=[] (a list naming no server) is an error.
Other NUKE_COMFYUI_* names are reported as probable typos.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

PREFIX = "NUKE_COMFYUI_"
CONFIG = PREFIX + "CONFIG"
SERVERS = PREFIX + "SERVERS"
DATA_DIR = PREFIX + "DATA_DIR"
WORKFLOWS = PREFIX + "WORKFLOWS"
STRATEGY = PREFIX + "STRATEGY"
POLL_INTERVAL = PREFIX + "POLL_INTERVAL"
TIMEOUT = PREFIX + "TIMEOUT"
RETRIES = PREFIX + "RETRIES"

# server field -> variable suffix; numbered variables append _<n>, single ones use it as is
SERVER_FIELDS = {"host": "IP", "port": "PORT", "name": "NAME", "dir_local": "DIR_LOCAL",
                 "dir_remote": "DIR_REMOTE", "token": "TOKEN"}
# cluster field -> variable, and how its text is read
CLUSTER_VARIABLES = {"strategy": STRATEGY, "poll_interval": POLL_INTERVAL, "job_timeout": TIMEOUT,
                     "retries": RETRIES, "workflows_folder": WORKFLOWS}
_CLUSTER_KINDS: Dict[str, Any] = {"strategy": str, "poll_interval": float, "job_timeout": float, "retries": int,
                                  "workflows_folder": str}
_NUMBERED = re.compile(rf"^{PREFIX}({'|'.join(SERVER_FIELDS.values())})_(\d+)$")
_SINGLE_NAMES = {PREFIX + suffix for suffix in SERVER_FIELDS.values()}
_OTHER_NAMES = {CONFIG, SERVERS, DATA_DIR, WORKFLOWS, *CLUSTER_VARIABLES.values()}


class EnvError(ValueError):
    """A variable's value cannot be read (the loader turns it into a ConfigError)."""


class EnvServer(NamedTuple):
    """One server described by the environment, before validation."""

    source: str                  # e.g. "NUKE_COMFYUI_IP_2" or "NUKE_COMFYUI_SERVERS"
    fields: Dict[str, Any]       # ServerConfig keyword arguments
    variables: Dict[str, str]    # ServerConfig field -> the variable it came from (for error messages)


def servers_from_env(environ: Optional[Mapping[str, str]] = None) -> List[EnvServer]:
    """Raw servers from the highest-precedence variable source that defines any (may be empty)."""
    env = os.environ if environ is None else environ
    if _value(env, SERVERS):
        return _server_list(env[SERVERS])
    numbered = _numbered(env)
    if numbered:
        return numbered
    single = {field: PREFIX + suffix for field, suffix in SERVER_FIELDS.items()}
    if any(_value(env, name) for name in single.values()):
        return [_server(env, single, default_name="local")]
    return []


def cluster_from_env(environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Cluster-level overrides present in the environment (field -> value)."""
    env = os.environ if environ is None else environ
    out: Dict[str, Any] = {}
    for field, name in CLUSTER_VARIABLES.items():
        text = _value(env, name)
        if text:
            kind = _CLUSTER_KINDS[field]
            out[field] = text if kind is str else _number(text, name, kind)
    return out


def settings_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """The settings file: NUKE_COMFYUI_CONFIG, else ~/.nuke/comfyui/servers.json (not expanded here)."""
    env = os.environ if environ is None else environ
    return _value(env, CONFIG) or os.path.join(os.path.expanduser("~"), ".nuke", "comfyui", "servers.json")


def data_dir_override(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """NUKE_COMFYUI_DATA_DIR when set (core/data_dir.py picks the per-user default otherwise)."""
    env = os.environ if environ is None else environ
    return _value(env, DATA_DIR) or None


def warnings(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Variables that are set but have no effect: shadowed by a higher source, or misspelt."""
    env = os.environ if environ is None else environ
    out: List[str] = []
    sources = [("the list", [SERVERS] if _value(env, SERVERS) else []),
               ("numbered variables", sorted(n for n in env if _NUMBERED.match(n) and _value(env, n))),
               ("single-server variables", sorted(n for n in _SINGLE_NAMES if _value(env, n)))]
    used = next((label for label, names in sources if names), None)
    for label, names in sources:
        if names and label != used:
            out.append(f"{', '.join(names)} ignored: servers come from {used} ({_first_name(sources, used)}); "
                       f"unset one of them")
    for name in sorted(env):
        if name.startswith(PREFIX) and not (_NUMBERED.match(name) or name in _SINGLE_NAMES or name in _OTHER_NAMES):
            out.append(f"{name} is not a nuke-comfyui variable; check its spelling (env.py lists them all)")
    return out


def _first_name(sources: List[Any], label: Optional[str]) -> str:
    return next(names[0] for lab, names in sources if lab == label)


def _value(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _server_list(text: str) -> List[EnvServer]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnvError(f"{SERVERS} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                       'write a JSON array such as [{"name": "gpu01", "host": "10.0.0.5"}]') from None
    except RecursionError:
        raise EnvError(f"{SERVERS} is nested too deeply to be a server list; write a flat JSON array") from None
    if not isinstance(value, list):
        raise EnvError(f"{SERVERS} must be a JSON array of server objects, not {_json_type(value)}; "
                       'wrap it in [ ], e.g. [{"name": "gpu01", "host": "10.0.0.5"}]')
    if not value:  # set on purpose but empty: never fall back to a server nobody named
        raise EnvError(f"{SERVERS} is an empty list; name at least one server, e.g. "
                       '[{"name": "gpu01", "host": "10.0.0.5"}], or unset it to use the settings file')
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise EnvError(f"{SERVERS}: server {index + 1} is {_json_type(item)}, not an object; "
                           'write it like {"name": "gpu01", "host": "10.0.0.5"}')
        out.append(EnvServer(SERVERS, dict(item), {}))
    return out


def _numbered(env: Mapping[str, str]) -> List[EnvServer]:
    numbers = sorted({int(m.group(2)) for m in map(_NUMBERED.match, env) if m and _value(env, m.group(0))})
    out = []
    for n in numbers:
        names = {field: f"{PREFIX}{suffix}_{n}" for field, suffix in SERVER_FIELDS.items()}
        if not _value(env, names["host"]):
            stray = next(name for name in names.values() if _value(env, name))
            raise EnvError(f"{stray} is set but {names['host']} is not; set {names['host']} to the server's "
                           f"address or unset {stray}")
        out.append(_server(env, names, default_name=f"server{n}"))
    return out


def _server(env: Mapping[str, str], names: Mapping[str, str], *, default_name: str) -> EnvServer:
    source = names["host"] if _value(env, names["host"]) else next(n for n in names.values() if _value(env, n))
    fields: Dict[str, Any] = {"name": _value(env, names["name"]) or default_name,
                              "host": _value(env, names["host"]) or "127.0.0.1"}
    variables = {"name": names["name"], "host": names["host"]}
    if _value(env, names["port"]):
        fields["port"] = _number(env[names["port"]], names["port"], int)
        variables["port"] = names["port"]
    local, remote = _value(env, names["dir_local"]), _value(env, names["dir_remote"])
    if bool(local) != bool(remote):
        have, missing = (names["dir_local"], names["dir_remote"]) if local else (names["dir_remote"],
                                                                                  names["dir_local"])
        raise EnvError(f"{have} is set but {missing} is not; set both (the shared ComfyUI folder as seen "
                       "here and from the server) or neither (frames are then uploaded)")
    if local:
        fields.update(dir_local=local, dir_remote=remote, transfer="shared")
        variables.update(dir_local=names["dir_local"], dir_remote=names["dir_remote"], transfer=names["dir_local"])
    if _value(env, names["token"]):
        fields["auth"] = {"kind": "bearer", "token": f"${{{names['token']}}}"}  # never copy the secret itself
        variables["auth"] = names["token"]
    return EnvServer(source, fields, variables)


def _number(text: str, name: str, kind: Any) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        example = "8188" if name.startswith(PREFIX + "PORT") else ("2" if kind is int else "2.0")
        raise EnvError(f"{name}={text!r} is not a {'whole ' if kind is int else ''}number; "
                       f"set it to e.g. {example}") from None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
