"""Server and cluster configuration models (pydantic): what a TD edits, validated with fixable messages.

Secrets stay out of files: auth tokens and passwords may be written as `${ENV_VAR}` and are only
expanded when request headers are built. Nothing here ever prints a secret.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import os
import re
import tempfile
from typing import Any, Dict, List, Literal, Mapping, Optional, Tuple
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from nuke_comfyui.core.errors import ConfigError
from nuke_comfyui.core.paths import PathMapping, is_absolute

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
STRATEGIES = ("round-robin", "least-loaded", "priority", "fastest")
#: one result file at most (decoded): a 4K float EXR is ~140 MB; a gzip-encoded /view cannot grow past it
DEFAULT_MAX_RESULT_MB = 512.0


def expand_env(value: str, environ: Mapping[str, str], where: str) -> str:
    """Replace `${VAR}` references; a missing variable is a ConfigError naming it and `where`."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{where} refers to ${{{name}}}, which is not set; "
                              f"set the environment variable {name} before starting Nuke or the CLI, "
                              "or correct the reference")
        return environ[name]

    return _ENV_REF.sub(replace, value)


def _not_a_bool(value: Any, info: ValidationInfo) -> Any:
    """JSON `true` is not a number: without this pydantic would read `"port": true` as port 1."""
    if isinstance(value, bool):
        raise ValueError(f"{info.field_name} must be a number, not {str(value).lower()}")
    return value


class AuthConfig(BaseModel):
    """Credentials a reverse proxy in front of ComfyUI asks for (ComfyUI itself has none)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["bearer", "basic"] = "bearer"
    token: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = None
    _server: str = PrivateAttr(default="")  # set by ServerConfig, so a missing ${VAR} names the server

    @model_validator(mode="after")
    def _complete(self) -> AuthConfig:
        if self.kind == "bearer" and not self.token:
            raise ValueError("bearer auth needs a token (write it as ${ENV_VAR} to keep it out of the file)")
        if self.kind == "basic" and not (self.username and self.password is not None):
            raise ValueError("basic auth needs username and password")
        for name in ("token", "username", "password"):
            if _CONTROL.search(getattr(self, name) or ""):  # a request header must never be split
                raise ValueError(f"the auth {name} holds a line break or another control character; "
                                 "write it on one line")
        return self

    def headers(self, environ: Optional[Mapping[str, str]] = None, server: str = "") -> Dict[str, str]:
        env = os.environ if environ is None else environ
        server = server or self._server
        where = f"server {server!r} auth" if server else "auth"
        if self.kind == "bearer":
            token = expand_env(self.token or "", env, where + " token")
            if not token.strip():  # "Authorization: Bearer " with nothing after it helps nobody
                source = ", ".join(f"${{{name}}}" for name in _ENV_REF.findall(self.token or "")) or "it"
                raise ConfigError(f"{where} token is empty: {source} is set but holds nothing; set it to the "
                                  "proxy's token, or remove the server's auth")
            return {"Authorization": "Bearer " + token}
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

    _numbers = field_validator("port", "priority", "max_concurrent", mode="before")(_not_a_bool)

    @model_validator(mode="before")
    @classmethod
    def _host_and_port(cls, data: Any) -> Any:
        """`10.0.0.5:8189` in host (NUKE_COMFYUI_IP=10.0.0.5:8189) is split into host and port; an IPv6
        literal (`::1`, `[::1]`, `[::1]:8189`) is kept as the host, without its brackets."""
        if not (isinstance(data, dict) and isinstance(data.get("host"), str)):
            return data
        host, port = split_host_port(data["host"].strip())
        if port is None:
            return {**data, "host": host}
        given = data.get("port")
        if given is not None and given != port and str(given).strip() != str(port):
            raise ValueError(f"host {data['host']!r} holds port {port} but port is {given}; write the host alone "
                             "in 'host' and the port in 'port'")
        return {**data, "host": host, "port": port}

    @model_validator(mode="before")
    @classmethod
    def _userinfo_to_auth(cls, data: Any) -> Any:
        """`http://artist:pw@host` would print the password wherever the URL is shown (status, errors,
        panels): the user and password become basic auth (unless auth is set) and leave the URL."""
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            url, user, password = split_userinfo(data["url"])
            if user is not None:
                data = {**data, "url": url}
                if data.get("auth") is None:
                    data["auth"] = {"kind": "basic", "username": user, "password": password or ""}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be empty; give each server a short unique name such as 'gpu01'")
        return value.strip()

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip() or "/" in value or " " in value.strip() or ("[" in value or "]" in value) \
                or (":" in value and not _is_ipv6(value.strip())):
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
        match = re.match(r"^(https?)://[^/\s?#]+", value, re.IGNORECASE)
        if not match or re.search(r"[\s?#]", value):
            raise ValueError(f"url {value!r} must be http:// or https:// followed by a host (and optionally a "
                             "path), e.g. https://comfy.studio.lan:8443; leave it empty to use host and port")
        return match.group(1).lower() + value[len(match.group(1)):].rstrip("/")

    @field_validator("max_concurrent")
    @classmethod
    def _max_concurrent(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"max_concurrent {value} must be at least 1 "
                             "(a stock ComfyUI runs one job at a time)")
        return value

    @field_validator("dir_local", "dir_remote")
    @classmethod
    def _absolute_dir(cls, value: str, info: ValidationInfo) -> str:
        if value.strip() and not is_absolute(value):
            raise ValueError(f"{info.field_name} {value!r} is not an absolute path; write the server's ComfyUI "
                             "folder in full, e.g. U:/ or \\\\fileserver\\comfy or /mnt/comfy")
        return value.strip()

    @field_validator("job_types")
    @classmethod
    def _job_types(cls, value: List[str]) -> List[str]:
        if any(not item.strip() for item in value):
            raise ValueError("job_types must not contain empty names; remove the empty entry "
                             "(an empty list means every job type)")
        return [item.strip() for item in value]

    @field_validator("transfer")
    @classmethod
    def _shared_needs_dirs(cls, value: str, info: ValidationInfo) -> str:
        if value == "shared" and not (info.data.get("dir_local") and info.data.get("dir_remote")):
            raise ValueError("transfer 'shared' needs dir_local and dir_remote (the server's ComfyUI folder "
                             "as seen from here and from the server); set both or use transfer 'upload'")
        return value

    @model_validator(mode="after")
    def _tell_auth_its_server(self) -> ServerConfig:
        if self.auth is not None:
            self.auth._server = self.name
        return self

    @property
    def base_url(self) -> str:
        """Where the server answers, without a trailing slash; `url` wins over host and port."""
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal (RFC 3986)
        return self.url or f"http://{host}:{self.port}"

    @property
    def mapping(self) -> Optional[PathMapping]:
        """The local<->remote PathMapping, or None without shared storage."""
        if not (self.dir_local and self.dir_remote):
            return None
        return PathMapping(self.dir_local, self.dir_remote)

    def check_shared_storage(self, writes_inputs: bool = True) -> None:
        """ConfigError unless `dir_local` is a folder we can use for transfer 'shared'.

        Checked before a render sends or writes anything: frames are staged in
        `<dir_local>/input/` and results read from `<dir_local>/output/`, so a share that is not
        mounted must never make us create that tree on the local disk instead.
        """
        where = f"server {self.name!r}: dir_local {self.dir_local!r}"
        hint = "mount the share (or correct dir_local), or switch the server to transfer 'upload'"
        if not self.dir_local:
            raise ConfigError(f"server {self.name!r} uses transfer 'shared' but has no dir_local; set dir_local "
                              "and dir_remote or switch it to transfer 'upload'")
        if not os.path.isdir(self.dir_local):
            state = "is not a folder" if os.path.exists(self.dir_local) else "does not exist"
            raise ConfigError(f"{where} {state} (transfer 'shared' works in the server's ComfyUI folder "
                              f"seen from here); {hint}")
        if writes_inputs:
            inputs = os.path.join(self.dir_local, "input")
            if not os.path.isdir(inputs):
                raise ConfigError(f"{where} has no input folder ({inputs} does not exist), so it is not the "
                                  f"server's ComfyUI folder; {hint}")
            try:
                with tempfile.TemporaryFile(dir=inputs):
                    pass
            except OSError as exc:
                raise ConfigError(f"{where}: cannot write input frames into {inputs} ({exc.strerror}); "
                                  f"{hint}") from None

    def auth_headers(self, environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """Request headers for this server's proxy ({} without auth); errors name the server."""
        return self.auth.headers(environ, server=self.name) if self.auth else {}

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
    #: the largest result file a server may send, in MB (decoded); bigger ones are refused
    max_result_mb: float = DEFAULT_MAX_RESULT_MB
    #: the studio workflows folder: its *.json files fill the Comfy node's pick list (None: no list)
    workflows_folder: Optional[str] = None

    _numbers = field_validator("poll_interval", "stats_interval", "job_timeout", "retries", "max_result_mb",
                               mode="before")(_not_a_bool)

    @field_validator("max_result_mb")
    @classmethod
    def _result_cap(cls, value: float) -> float:
        if not math.isfinite(value) or not 1 <= value <= 1024 * 1024:
            raise ValueError(f"max_result_mb {value} must be a number of MB from 1 to 1048576, e.g. 512")
        return value

    @field_validator("poll_interval", "stats_interval", "job_timeout")
    @classmethod
    def _positive(cls, value: float, info: ValidationInfo) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{info.field_name} {value} must be a positive number of seconds, e.g. 2.0")
        return value

    @field_validator("retries")
    @classmethod
    def _retries(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"retries {value} must be 0 or more (extra attempts after the first)")
        return value

    @field_validator("workflows_folder", mode="before")
    @classmethod
    def _folder(cls, value: Any) -> Any:
        """Blank means unset; a folder that does not exist (yet) is allowed: shares mount late."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("workflows_folder must be a folder path as text, e.g. /studio/comfy_workflows")
        return value.strip()

    @model_validator(mode="after")
    def _unique_names(self) -> ClusterConfig:
        clash = duplicate_name(self.servers)
        if clash:
            first, second = clash
            raise ValueError(f"servers {first + 1} and {second + 1} are both named {self.servers[second].name!r} "
                             "(names compare without case); rename one of them")
        return self

    def redacted(self) -> Dict[str, Any]:
        data = self.model_dump(exclude={"servers"})
        data["servers"] = [s.redacted() for s in self.servers]
        return data


def duplicate_name(servers: List[ServerConfig]) -> Optional[Tuple[int, int]]:
    """The 0-based indexes of the first two servers sharing a name (case-insensitive), or None."""
    seen: Dict[str, int] = {}
    for index, server in enumerate(servers):
        key = server.name.casefold()
        if key in seen:
            return seen[key], index
        seen[key] = index
    return None


def split_host_port(text: str) -> Tuple[str, Optional[int]]:
    """(host, port or None) of `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal."""
    bracketed = re.fullmatch(r"\[([^\]]*)\](?::(\d{1,5}))?", text)
    if bracketed:
        return bracketed.group(1), int(bracketed.group(2)) if bracketed.group(2) else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if port.isdigit() and len(port) <= 5:
            return host, int(port)
    return text, None


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/?#@\s]*)@", re.ASCII)


def split_userinfo(url: str) -> Tuple[str, Optional[str], Optional[str]]:
    """(url without `user:password@`, user, password), percent-decoded; (url, None, None) without any."""
    match = _USERINFO.match(url)
    if match is None:
        return url, None, None
    user, colon, password = match.group("info").partition(":")
    return match.group("scheme") + url[match.end():], unquote(user), unquote(password) if colon else None


def _mask(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    return value if _ENV_REF.fullmatch(value) else "***"
