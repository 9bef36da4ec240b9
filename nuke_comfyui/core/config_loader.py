"""Where the farm's configuration comes from, in which order, and how it is saved.

Sources and precedence are defined (and documented) in `core/env.py`, copied beside init.py as
`env.py` for TDs: servers come from NUKE_COMFYUI_SERVERS, else numbered variables, else
single-server variables, else the JSON settings file, else one local server; cluster settings
are defaults < file < environment.
Every problem becomes a ConfigError that names the source, the server and the field, with the fix;
a malformed configuration never raises anything else.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from pydantic import ValidationError

from nuke_comfyui.core import env as contract
from nuke_comfyui.core import text_files
from nuke_comfyui.core.config import ClusterConfig, ServerConfig, duplicate_name, split_userinfo
from nuke_comfyui.core.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "default (nothing configured)"
MAX_SETTINGS_BYTES = 8 * 2**20  # a farm of 500 servers is about 100 kB
_SECRET_FIELDS = {"auth", "token", "password", "username"}


@dataclass
class LoadedConfig:
    """The validated cluster plus, per server, where it came from (shown read-only in the settings panel)."""

    cluster: ClusterConfig
    sources: List[str] = field(default_factory=list)
    path: Optional[Path] = None  # the settings file that was read or would be written
    warnings: List[str] = field(default_factory=list)  # variables or file entries that had no effect
    #: cluster fields an environment variable set (field -> variable): the panel shows them read-only
    cluster_variables: Dict[str, str] = field(default_factory=dict)
    #: the settings file's own cluster values (what Save keeps for a field a variable overrides)
    file_cluster: Dict[str, Any] = field(default_factory=dict)

    def from_environment(self, index: int) -> bool:
        return self.sources[index].startswith("NUKE_COMFYUI_")

    @property
    def nothing_configured(self) -> bool:
        """No source defined a server: the loader fell back to its one default (127.0.0.1:8188)."""
        return bool(self.sources) and all(source == DEFAULT_SOURCE for source in self.sources)


def default_config_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """NUKE_COMFYUI_CONFIG, else ~/.nuke/comfyui/servers.json."""
    return Path(contract.settings_path(environ)).expanduser()


def load_config(path: Union[str, Path, None] = None, environ: Optional[Mapping[str, str]] = None) -> LoadedConfig:
    """Read every source and return the validated cluster; raises only ConfigError."""
    env = dict(os.environ if environ is None else environ)
    settings = Path(path).expanduser() if path else default_config_path(env)
    warnings: List[str] = []
    if path and not settings.is_file():
        raise ConfigError(f"settings file {settings} does not exist or is not a file; check the path "
                          "or save one from the Settings panel")
    if not path and settings.exists() and not settings.is_file():
        raise ConfigError(f"settings file {settings} is a folder; point {contract.CONFIG} at a JSON file")
    file_data = _read_file(settings) if settings.is_file() else {}
    if not path and not settings.is_file() and env.get(contract.CONFIG, "").strip():
        warnings.append(f"{contract.CONFIG} points to {settings}, which does not exist yet; "
                        "using defaults until settings are saved there")

    try:
        env_servers = contract.servers_from_env(env)
        env_cluster: Dict[str, Any] = contract.cluster_from_env(env)
        warnings.extend(contract.warnings(env))
    except contract.EnvError as exc:
        raise ConfigError(str(exc)) from None

    file_servers = _file_servers(settings, file_data)
    if env_servers:
        raw = [(s.source, s.fields, s.variables) for s in env_servers]
        if file_servers:
            warnings.append(f"the servers in settings file {settings} are ignored: {env_servers[0].source} "
                            "is set and environment variables win")
    elif file_servers:
        raw = [(f"file {settings}", item, {}) for item in file_servers]
    else:
        raw = [(DEFAULT_SOURCE, {"name": "local", "host": "127.0.0.1", "port": 8188}, {})]

    warnings.extend(_userinfo_warnings(raw))
    servers = [_server(index, source, fields, variables) for index, (source, fields, variables) in enumerate(raw)]
    _check_unique(servers, [source for source, _, _ in raw])
    cluster = _cluster(servers, settings, file_data, env_cluster, contract.CLUSTER_VARIABLES)
    for warning in warnings:
        log.warning("configuration: %s", warning)
    return LoadedConfig(cluster=cluster, sources=[source for source, _, _ in raw], path=settings, warnings=warnings,
                        cluster_variables={key: contract.CLUSTER_VARIABLES[key] for key in env_cluster},
                        file_cluster={k: v for k, v in file_data.items() if k != "servers"})


def save_config(cluster: ClusterConfig, path: Union[str, Path, None] = None) -> Path:
    """Write the settings file atomically (temp file + rename); `${VAR}` secrets stay as written.

    An existing file keeps its permissions; a new one is private to the user when it holds a
    literal secret (a token or password not written as `${VAR}`).
    """
    target = Path(path).expanduser() if path else default_config_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = cluster.model_dump(mode="json")
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else _new_file_mode(cluster)
    fd, temp = tempfile.mkstemp(dir=str(target.parent), prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return target


def _new_file_mode(cluster: ClusterConfig) -> int:
    literal = any(s.auth and (s.auth.redacted()["token"] == "***" or s.auth.redacted()["password"] == "***")
                  for s in cluster.servers)
    if literal:
        return 0o600
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _read_file(path: Path) -> Dict[str, Any]:
    try:
        text = text_files.read_text(path, MAX_SETTINGS_BYTES)  # a byte-order mark is fine
    except text_files.TooLarge:
        raise ConfigError(f"settings file {path} is larger than {MAX_SETTINGS_BYTES // 2**20} MB, which no settings "
                          "file is; point NUKE_COMFYUI_CONFIG at the right file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}; check its permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"settings file {path} is not UTF-8 text; save it as UTF-8 JSON") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid JSON: line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}; fix the file or delete it to start from defaults") from None
    except _DuplicateKey as exc:
        raise ConfigError(f"settings file {path} has the key {exc.args[0]!r} twice in one object; "
                          "keep only one of them") from None
    except RecursionError:
        raise ConfigError(f"settings file {path} is nested too deeply to be a settings file; "
                          "it should be an object with a 'servers' list") from None
    if not isinstance(data, dict):
        raise ConfigError(f"settings file {path} must hold a JSON object with a 'servers' list, "
                          f"not {type(data).__name__}")
    return data


def _file_servers(settings: Path, file_data: Dict[str, Any]) -> List[Any]:
    servers = file_data.get("servers", [])
    if not isinstance(servers, list):
        raise ConfigError(f"settings file {settings}: 'servers' must be a list of server objects "
                          f"([{{\"name\": \"gpu01\", \"host\": \"10.0.0.5\"}}]), not {type(servers).__name__}")
    return servers


def _label(index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"server {index + 1}" + (f" ({name!r})" if isinstance(name, str) and name.strip() else "")


def _server(index: int, source: str, raw: Any, variables: Mapping[str, str]) -> ServerConfig:
    label = _label(index, raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {label} must be an object with name, host, port, ... "
                          f"not {type(raw).__name__}")
    try:
        return ServerConfig(**raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source, label, variables)) from None


def _userinfo_warnings(raw: Sequence[Tuple[str, Any, Any]]) -> List[str]:
    """Servers whose url carries `user:password@`: ServerConfig moves it into auth; say so once."""
    out = []
    for index, (source, fields, _) in enumerate(raw):
        url = fields.get("url") if isinstance(fields, dict) else None
        if isinstance(url, str) and split_userinfo(url)[1] is not None:
            kept = "its auth settings are used instead" if fields.get("auth") else "they are used as basic auth"
            out.append(f"{source}: {_label(index, fields)}: the url holds a user name and password; {kept} and "
                       "the url is shown without them (write them in 'auth', the password as ${VAR}, to keep "
                       "them out of the settings)")
    return out


def _check_unique(servers: Sequence[ServerConfig], sources: Sequence[str]) -> None:
    clash = duplicate_name(list(servers))
    if clash:
        first, second = clash
        raise ConfigError(f"{sources[second]}: server {second + 1} ({servers[second].name!r}): field 'name': "
                          f"server {first + 1} (from {sources[first]}) has the same name (names compare without "
                          "case); give each server a unique name")


def _cluster(servers: List[ServerConfig], settings: Path, file_data: Dict[str, Any],
             env_cluster: Dict[str, Any], variables: Mapping[str, str]) -> ClusterConfig:
    fields = {key: value for key, value in file_data.items() if key != "servers"}
    fields.update(env_cluster)
    sources = {key: variables[key] for key in env_cluster}
    try:
        return ClusterConfig(servers=servers, **fields)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, f"settings file {settings}", "cluster setting", sources)) from None


def _explain(exc: ValidationError, source: str, label: str, variables: Mapping[str, str]) -> str:
    """One readable line per problem: where, which field, what is wrong and the fix."""
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        where = variables.get(loc[0], source) if loc else source
        message = str(error.get("msg", "invalid value"))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message[len(prefix):] if message.startswith(prefix) else message
        kind = error.get("type", "")
        if kind == "extra_forbidden":
            message = "unknown key; remove it or check its spelling (docs/CONFIG.md lists every key)"
        elif kind == "missing":
            message = "required; add it"
        elif kind != "value_error" and not _SECRET_FIELDS.intersection(loc):
            message += f" (got {_short(error.get('input'))})"
        lines.append(f"{where}: {label}: field '{'.'.join(loc) or '(whole entry)'}': {message}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    """The offending value, shortened for a one-line message."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."
