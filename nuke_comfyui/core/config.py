"""Server and cluster configuration models (pydantic): what a TD edits, validated with fixable messages.

Secrets stay out of files: auth tokens and passwords may be written as `${ENV_VAR}` and are only
expanded when request headers are built. Nothing here ever prints a secret.
"""

from __future__ import annotations

import base64
import os
import re
from typing import Any, Dict, List, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nuke_comfyui.core.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
STRATEGIES = ("round-robin", "least-loaded", "priority", "fastest")


def expand_env(value: str, environ: Mapping[str, str], where: str) -> str:
    """Replace `${VAR}` references; a missing variable is a ConfigError naming it and `where`."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{where} refers to ${{{name}}}, which is not set; "
                              f"set the environment variable {name} or write the value in the settings file")
        return environ[name]

    return _ENV_REF.sub(replace, value)


class AuthConfig(BaseModel):
    """Credentials a reverse proxy in front of ComfyUI asks for (ComfyUI itself has none)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["bearer", "basic"] = "bearer"
    token: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = None

    @model_validator(mode="after")
    def _complete(self) -> AuthConfig:
        if self.kind == "bearer" and not self.token:
            raise ValueError("bearer auth needs a token (write it as ${ENV_VAR} to keep it out of the file)")
        if self.kind == "basic" and not (self.username and self.password is not None):
            raise ValueError("basic auth needs username and password")
        return self

    def headers(self, environ: Optional[Mapping[str, str]] = None, server: str = "") -> Dict[str, str]:
        env = os.environ if environ is None else environ
        where = f"server {server!r} auth" if server else "auth"
        if self.kind == "bearer":
            return {"Authorization": "Bearer " + expand_env(self.token or "", env, where + " token")}
        user = expand_env(self.username or "", env, where + " username")
        password = expand_env(self.password or "", env, where + " password")
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")}

    def redacted(self) -> Dict[str, Any]:
        return {"kind": self.kind, "username": self.username,
                "token": _mask(self.token), "password": _mask(self.password)}

    def __repr__(self) -> str:
        return f"AuthConfig({self.redacted()})"

    __str__ = __repr__


class ServerConfig(BaseModel):
    """One ComfyUI server. `dir_local`/`dir_remote` are its ComfyUI root as seen here and by the server."""

    model_config = ConfigDict(extra="forbid")

    name: str
    host: str = "127.0.0.1"
    port: int = 8188
    url: Optional[str] = None
    dir_local: str = ""
    dir_remote: str = ""
    priority: int = 0
    enabled: bool = True
    job_types: List[str] = Field(default_factory=list)
    max_concurrent: int = 1
    transfer: Literal["shared", "upload"] = "upload"
    auth: Optional[AuthConfig] = None
    verify_tls: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be empty; give each server a short unique name such as 'gpu01'")
        return value.strip()

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip() or "/" in value or " " in value.strip():
            raise ValueError(f"host {value!r} is not a host name or IP address; write e.g. 10.0.0.5 "
                             "(put a full address in 'url' instead)")
        return value.strip()

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError(f"port {value} is outside 1-65535; ComfyUI's default is 8188")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"url {value!r} must start with http:// or https:// followed by a host")
        return value.rstrip("/")

    @field_validator("max_concurrent")
    @classmethod
    def _max_concurrent(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"max_concurrent {value} must be at least 1 "
                             "(a stock ComfyUI runs one job at a time)")
        return value

    @model_validator(mode="after")
    def _shared_needs_dirs(self) -> ServerConfig:
        if self.transfer == "shared" and not (self.dir_local and self.dir_remote):
            raise ValueError("transfer 'shared' needs dir_local and dir_remote (the server's ComfyUI folder "
                             "as seen from here and from the server); set both or use transfer 'upload'")
        return self

    @property
    def base_url(self) -> str:
        return self.url or f"http://{self.host}:{self.port}"

    @property
    def mapping(self) -> Any:
        """The local<->remote PathMapping, or None without shared storage."""
        if not (self.dir_local and self.dir_remote):
            return None
        from nuke_comfyui.core.paths import PathMapping

        return PathMapping(self.dir_local, self.dir_remote)

    def redacted(self) -> Dict[str, Any]:
        data = self.model_dump(exclude={"auth"})
        data["auth"] = self.auth.redacted() if self.auth else None
        return data

    def __repr__(self) -> str:
        return f"ServerConfig({self.redacted()})"

    __str__ = __repr__


class ClusterConfig(BaseModel):
    """The farm: its servers and how work is spread over them."""

    model_config = ConfigDict(extra="forbid")

    servers: List[ServerConfig] = Field(default_factory=list)
    strategy: Literal["round-robin", "least-loaded", "priority", "fastest"] = "fastest"
    poll_interval: float = 2.0
    stats_interval: float = 10.0
    job_timeout: float = 300.0
    retries: int = 2

    @field_validator("poll_interval", "stats_interval", "job_timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"{value} must be a positive number of seconds")
        return value

    @field_validator("retries")
    @classmethod
    def _retries(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"retries {value} must be 0 or more")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> ClusterConfig:
        seen: Dict[str, int] = {}
        for index, server in enumerate(self.servers):
            key = server.name.lower()
            if key in seen:
                raise ValueError(f"servers {seen[key]} and {index} are both named {server.name!r}; "
                                 "names must be unique")
            seen[key] = index
        return self

    def redacted(self) -> Dict[str, Any]:
        data = self.model_dump(exclude={"servers"})
        data["servers"] = [s.redacted() for s in self.servers]
        return data


def _mask(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    return value if _ENV_REF.fullmatch(value) else "***"
