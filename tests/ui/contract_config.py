"""Stand-in for core/config.py + config_loader.py (the ARCHITECTURE.md contract) while they are
missing from the checkout; `config_modules()` prefers the real modules whenever they import."""

from __future__ import annotations

import json
import types
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["bearer", "basic"]
    token: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = None


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    host: str = "127.0.0.1"
    port: int = Field(8188, ge=1, le=65535)
    url: Optional[str] = None
    dir_local: str = ""
    dir_remote: str = ""
    priority: int = 0
    enabled: bool = True
    job_types: List[str] = []
    max_concurrent: int = Field(1, ge=1)
    transfer: Literal["shared", "upload"] = "upload"
    auth: Optional[AuthConfig] = None
    verify_tls: bool = True

    @model_validator(mode="after")
    def _shared_needs_dirs(self) -> ServerConfig:
        if self.transfer == "shared" and not (self.dir_local and self.dir_remote):
            raise ValueError("transfer 'shared' needs dir_local and dir_remote: set both or use 'upload'")
        return self

    @property
    def base_url(self) -> str:
        return (self.url or f"http://{self.host}:{self.port}").rstrip("/")


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    servers: List[ServerConfig]
    strategy: Literal["round-robin", "least-loaded", "priority", "fastest"] = "fastest"
    poll_interval: float = Field(2.0, gt=0)
    stats_interval: float = Field(10.0, gt=0)
    job_timeout: float = Field(300.0, gt=0)
    retries: int = Field(2, ge=0)


@dataclass
class LoadedConfig:
    cluster: ClusterConfig
    sources: List[str] = field(default_factory=list)
    path: Optional[str] = None


def save_config(cluster: ClusterConfig, path: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(cluster.model_dump(mode="json"), handle, indent=2)


def load_file(path: Any) -> ClusterConfig:
    with open(path, encoding="utf-8") as handle:
        return ClusterConfig(**json.load(handle))


def config_modules() -> Tuple[Any, Any, bool]:
    """(config module, loader module, real?)."""
    try:
        from nuke_comfyui.core import config, config_loader

        return config, config_loader, True
    except ImportError:
        fake = types.ModuleType("nuke_comfyui.core.config")
        for name in ("AuthConfig", "ServerConfig", "ClusterConfig"):
            setattr(fake, name, globals()[name])
        loader = types.ModuleType("nuke_comfyui.core.config_loader")
        loader.LoadedConfig = LoadedConfig  # type: ignore[attr-defined]
        loader.save_config = save_config  # type: ignore[attr-defined]
        return fake, loader, False


def loaded_config(config: Any, loader: Any, servers: List[Dict[str, Any]], sources: List[str],
                  path: Optional[str]) -> Any:
    """A LoadedConfig as the loader would return it."""
    cluster = config.ClusterConfig(servers=[config.ServerConfig(**s) for s in servers])
    return loader.LoadedConfig(cluster=cluster, sources=sources, path=path) if not hasattr(
        loader, "load_config") else _real_loaded(loader, cluster, sources, path)


def _real_loaded(loader: Any, cluster: Any, sources: List[str], path: Optional[str]) -> Any:
    try:
        return loader.LoadedConfig(cluster=cluster, sources=sources, path=path)
    except TypeError:
        return types.SimpleNamespace(cluster=cluster, sources=sources, path=path)
