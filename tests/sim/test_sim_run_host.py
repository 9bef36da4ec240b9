"""The executor runs a prompt for its server without importing the server (sim/run_host.py)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nuke_comfyui.sim.executor as executor
from nuke_comfyui.sim.run_host import PromptHost

SIM = Path(executor.__file__).parent


def _imports(module: Path) -> set:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_executor_does_not_import_the_server() -> None:
    assert "nuke_comfyui.sim.server" not in _imports(SIM / "executor.py")
    assert "nuke_comfyui.sim.executor" in _imports(SIM / "server.py")


def test_a_sim_server_provides_everything_a_prompt_run_uses(sim_cluster: Any) -> None:
    server = sim_cluster(1).servers[0]._server  # the SimServer behind the thread-safe handle
    wanted = [name for name in dir(PromptHost) if not name.startswith("_")]
    wanted += list(getattr(PromptHost, "__annotations__", {}))
    missing = [name for name in set(wanted) if not hasattr(server, name)]
    assert not missing, missing
