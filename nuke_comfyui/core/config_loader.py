"""Where the farm's configuration comes from, in which order, and how it is saved.

Sources and precedence are defined (and documented) in the top-level `env.py`: servers come
from NUKE_COMFYUI_SERVERS, else numbered variables, else single-server variables, else the JSON
settings file, else one local server; cluster settings are defaults < file < environment.
Every problem becomes a ConfigError that names the source, the server and the field, with the fix.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from pydantic import ValidationError

from nuke_comfyui.core.config import ClusterConfig, ServerConfig
from nuke_comfyui.core.errors import ConfigError

DEFAULT_SOURCE = "default (nothing configured)"
_PLUGIN_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LoadedConfig:
    """The validated cluster plus, per server, where it came from (shown read-only in the settings panel)."""

    cluster: ClusterConfig
    sources: List[str] = field(default_factory=list)
    path: Optional[Path] = None  # the settings file that was read or would be written

    def from_environment(self, index: int) -> bool:
        return self.sources[index].startswith("NUKE_COMFYUI_")


def env_contract() -> ModuleType:
    """The top-level env.py (kept beside the package so TDs can read it on its own)."""
    path = _PLUGIN_ROOT / "env.py"
    spec = importlib.util.spec_from_file_location("nuke_comfyui_env", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ConfigError(f"{path} is missing: the plugin folder is incomplete; reinstall nuke-comfyui")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_config_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    return Path(env_contract().settings_path(environ)).expanduser()


def load_config(path: Union[str, Path, None] = None, environ: Optional[Mapping[str, str]] = None) -> LoadedConfig:
    """Read every source and return the validated cluster; raises only ConfigError."""
    env_module = env_contract()
    env = dict(os.environ if environ is None else environ)
    settings = Path(path).expanduser() if path else default_config_path(env)
    if path and not settings.is_file():
        raise ConfigError(f"settings file {settings} does not exist; check the path or save one from Settings")

    file_data = _read_file(settings) if settings.is_file() else {}
    try:
        env_servers = env_module.servers_from_env(env)
        env_cluster = env_module.cluster_from_env(env)
    except env_module.EnvError as exc:
        raise ConfigError(str(exc)) from None

    if env_servers:
        raw_servers: List[Tuple[str, Any]] = env_servers
    elif "servers" in file_data:
        servers = file_data["servers"]
        if not isinstance(servers, list):
            raise ConfigError(f"{settings}: 'servers' must be a list of server objects")
        raw_servers = [(f"file {settings}", item) for item in servers]
    else:
        raw_servers = [(DEFAULT_SOURCE, {"name": "local", "host": "127.0.0.1", "port": 8188})]

    validated = [_server(index, source, raw) for index, (source, raw) in enumerate(raw_servers)]
    cluster_fields = {k: v for k, v in file_data.items() if k != "servers"}
    cluster_fields.update(env_cluster)
    where = f"settings file {settings}" if not env_cluster else f"settings file {settings} / environment"
    try:
        cluster = ClusterConfig(servers=validated, **cluster_fields)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, where, "cluster setting")) from None
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return LoadedConfig(cluster=cluster, sources=[source for source, _ in raw_servers], path=settings)


def save_config(cluster: ClusterConfig, path: Union[str, Path, None] = None) -> Path:
    """Write the settings file atomically (temp file + rename); `${VAR}` secrets stay as written."""
    target = Path(path).expanduser() if path else default_config_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = cluster.model_dump(mode="json")
    fd, temp = tempfile.mkstemp(dir=str(target.parent), prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return target


def _read_file(path: Path) -> Dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}; check its permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"settings file {path} is not UTF-8 text; save it as UTF-8 JSON") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid JSON: line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"settings file {path} must hold a JSON object with a 'servers' list, "
                          f"not {type(data).__name__}")
    return data


def _server(index: int, source: str, raw: Any) -> ServerConfig:
    name = raw.get("name") if isinstance(raw, dict) else None
    label = f"server {index + 1}" + (f" ({name!r})" if isinstance(name, str) and name else "")
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {label} must be an object with name, host, port, ...")
    try:
        return ServerConfig(**raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source, label)) from None
    except TypeError as exc:
        raise ConfigError(f"{source}: {label}: {exc}") from None


def _explain(exc: ValidationError, source: str, label: str) -> str:
    """One readable line per problem: where, which field, what is wrong and the fix."""
    lines = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error.get("loc", ())) or "(whole entry)"
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        kind = error.get("type", "")
        if kind == "extra_forbidden":
            message = "unknown key; remove it or check its spelling"
        elif kind == "missing":
            message = "required; add it"
        lines.append(f"{source}: {label}: field '{loc}': {message}")
    return "\n".join(lines)
