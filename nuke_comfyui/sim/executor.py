"""Runs one prompt on a simulated server and emits ComfyUI's WebSocket messages in ComfyUI's order.

Clients decide "done", "failed" and "progress" from this message stream, so its order is the
contract: execution_start, execution_cached, then per node progress_state(running), executing,
progress (samplers, one per step), executed (output nodes), progress_state(finished); then
execution_success | execution_error | execution_interrupted; the history entry is written; a
status broadcast; and finally `executing {node: null}`. Messages for a prompt go only to the
socket registered under its client_id (prompts without one: only progress/progress_state are
broadcast, like ComfyUI). Pixel work runs in a thread so the HTTP side stays responsive.

Execution cache (ComfyUI's quirk, kept on purpose): a node whose inputs are identical to the same
node of the previous prompt is not run again; an output node cached this way re-sends its old
`executed` output and writes no new file. LoadImage's signature includes the file's size and
mtime, so a changed input file is reloaded. A prompt with a fault planned bypasses the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set, Tuple

from nuke_comfyui.sim import batch_nodes, nodes, previews
from nuke_comfyui.sim.run_host import PromptHost
from nuke_comfyui.sim.state import QueueItem

GB_PER_MEGAPIXEL = 4.0  # simulated sampler memory: a 1024x1024 latent needs 4.19 GB of VRAM


class Interrupted(Exception):
    """The interrupt flag was seen at a node boundary or sampler step."""


class CrashNow(Exception):
    """The crash_after fault fired: the server must die without finishing the prompt."""


class NodeFailure(Exception):
    """A node raised: carries ComfyUI's exception_type and message."""

    def __init__(self, exception_type: str, message: str) -> None:
        super().__init__(message)
        self.exception_type = exception_type
        self.message = message


@dataclass
class Plan:
    """Faults decided for one prompt when it starts."""

    crash: bool = False
    hang: bool = False
    fail: bool = False
    drop_ws: bool = False

    @property
    def any(self) -> bool:
        return self.crash or self.hang or self.fail


def _ms() -> int:
    return int(time.time() * 1000)


def _convert(raw: Any, wanted: Any) -> Any:
    """A literal input as the node receives it (ComfyUI converts INT/FLOAT/STRING while validating)."""
    if isinstance(raw, dict) and "__value__" in raw:
        raw = raw["__value__"]
    if wanted == "INT":
        return int(raw)
    if wanted == "FLOAT":
        return float(raw)
    if wanted == "STRING":
        return str(raw)
    return raw


def full_type_name(exc: BaseException) -> str:
    """ComfyUI's exception_type: the class's module and name ("PIL.UnidentifiedImageError"), a builtin bare."""
    module = type(exc).__module__
    return type(exc).__qualname__ if module in (None, "builtins") else f"{module}.{type(exc).__qualname__}"


def _nested(flat: Dict[str, Any], combos: Set[str]) -> Dict[str, Any]:
    """A V3 dynamic combo's flat inputs as the node receives them (ComfyUI's build_nested_inputs):
    `format`, `format.bit_depth` -> {"format": {"format": ..., "bit_depth": ...}}. Only the dynamic
    combos in `combos` are nested (autogrow inputs stay flat: sim/batch_nodes.py reads them so)."""
    groups = {name.split(".", 1)[0] for name in flat if "." in name} & combos
    nested = {name: value for name, value in flat.items()
              if name not in groups and name.split(".", 1)[0] not in groups}
    for group in groups:
        nested[group] = {group: flat.get(group), **{name.split(".", 1)[1]: value for name, value in flat.items()
                                                    if name.startswith(group + ".")}}
    return nested


def execution_order(prompt: Dict[str, Any], outputs: List[str]) -> List[str]:
    """Dependencies first, outputs in the order given (a simple stand-in for ComfyUI's ExecutionList)."""
    order: List[str] = []
    seen: Set[str] = set()

    def visit(node_id: str) -> None:
        if node_id in seen:
            return
        seen.add(node_id)
        for value in prompt[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in prompt:
                visit(str(value[0]))
        order.append(node_id)

    for out in outputs:
        visit(out)
    return order


class PromptRun:
    """State of one prompt's execution on one server."""

    def __init__(self, server: PromptHost, item: QueueItem, plan: Plan) -> None:
        self.server = server
        self.item = item
        self.plan = plan
        self.pid = item.prompt_id
        self.sid = item.client_id
        self.messages: List[Tuple[str, Dict[str, Any]]] = []
        self.outputs: Dict[str, Any] = {}
        self.meta: Dict[str, Any] = {}
        self.values: Dict[str, Tuple[Any, ...]] = {}
        self.executed: List[str] = []
        self.states: Dict[str, Dict[str, Any]] = {}
        self.order = execution_order(item.prompt, item.outputs)
        self.signatures: Dict[str, str] = {}

    # -- messages -----------------------------------------------------------------------------
    async def _add_message(self, event: str, data: Dict[str, Any]) -> None:
        """Stored in history and sent to the prompt's client only (ComfyUI's add_message)."""
        data = {**data, "timestamp": _ms()}
        self.messages.append((event, data))
        if self.sid is not None:
            await self.server.send(event, data, self.sid)

    async def _to_client(self, event: str, data: Dict[str, Any]) -> None:
        if self.sid is not None:
            await self.server.send(event, data, self.sid)

    async def _progress_state(self, node_id: str, value: float, maximum: float, state: str) -> None:
        if self.server.options.workload.lean or not self.server.options.profile.progress_state:
            return
        self.states[node_id] = {
            "value": value,
            "max": maximum,
            "state": state,
            "node_id": node_id,
            "prompt_id": self.pid,
            "display_node_id": node_id,
            "parent_node_id": None,
            "real_node_id": node_id,
        }
        nodes_copy = {k: dict(v) for k, v in self.states.items()}
        await self.server.send("progress_state", {"prompt_id": self.pid, "nodes": nodes_copy}, self.sid)

    # -- cache -----------------------------------------------------------------------------
    def _signature(self, node_id: str) -> str:
        if node_id in self.signatures:
            return self.signatures[node_id]
        node = self.item.prompt[node_id]
        parts: Dict[str, Any] = {}
        for key, value in sorted(node.get("inputs", {}).items()):
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in self.item.prompt:
                parts[key] = [self._signature(str(value[0])), value[1]]
            else:
                parts[key] = value
        if node["class_type"] in ("LoadImage", "LoadImageMask"):
            path = self.server.folders.annotated_path(str(node.get("inputs", {}).get("image", "")))
            if path is not None and path.is_file():
                stat = path.stat()
                parts["__file__"] = [stat.st_size, stat.st_mtime_ns]
        sig = json.dumps([node_id, node["class_type"], parts], sort_keys=True, default=str)
        self.signatures[node_id] = sig
        return sig

    def _cached_nodes(self) -> List[str]:
        if self.plan.any:
            return []
        cache = self.server.cache
        return [n for n in self.order if cache.get(n, (None,))[0] == self._signature(n)]

    # -- inputs -------------------------------------------------------------------------------
    def _inputs(self, node_id: str) -> Dict[str, Any]:
        node = self.item.prompt[node_id]
        class_type = node["class_type"]
        live = node.get("inputs", {})
        types = {name: input_type for name, _, input_type, _ in self.server.catalog.input_spec(class_type, live)}
        resolved: Dict[str, Any] = {}
        for name, raw in live.items():
            if name not in types:
                continue
            if isinstance(raw, list) and len(raw) == 2:
                resolved[name] = self.values[str(raw[0])][raw[1]]
                continue
            resolved[name] = _convert(raw, types[name])
        return _nested(resolved, {name for name, kind in types.items() if kind == "COMFY_DYNAMICCOMBO_V3"})

    # -- running ------------------------------------------------------------------------------
    async def run(self) -> None:
        """Execute the prompt; raises CrashNow when the crash fault fires."""
        server = self.server
        await self._add_message("execution_start", {"prompt_id": self.pid})
        if self.plan.drop_ws:
            await server.drop_websockets()
        cached = self._cached_nodes()
        await self._add_message("execution_cached", {"nodes": cached, "prompt_id": self.pid})
        fault_node = self._fault_node(cached)
        outcome: Tuple[str, Optional[Dict[str, Any]]] = ("success", None)
        current = None
        try:
            for node_id in self.order:
                current = node_id
                if node_id in cached:
                    await self._use_cache(node_id)
                    continue
                await self._run_node(node_id, fault_node == node_id)
                self.executed.append(node_id)
        except Interrupted:
            outcome = ("interrupted", self._interrupted_data(current))
        except NodeFailure as exc:
            outcome = ("error", self._error_data(current, exc))
        finally:
            server.last_node_id = None
        await self._finish(outcome)

    def _fault_node(self, cached: List[str]) -> Optional[str]:
        """Where a planned fault strikes: the first sampler if any, else the first node."""
        if not self.plan.any:
            return None
        runnable = [n for n in self.order if n not in cached]
        for node_id in runnable:
            if self.item.prompt[node_id]["class_type"] in nodes.SAMPLERS:
                return node_id
        return runnable[0] if runnable else None

    async def _use_cache(self, node_id: str) -> None:
        _, values, ui = self.server.cache[node_id]
        self.values[node_id] = values
        if ui is not None:
            self.outputs[node_id] = ui
            self.meta[node_id] = self._meta(node_id)
            await self._to_client(
                "executed", {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": self.pid}
            )

    def _meta(self, node_id: str) -> Dict[str, Any]:
        return {"node_id": node_id, "display_node": node_id, "parent_node": None, "real_node_id": node_id}

    async def _run_node(self, node_id: str, fault_here: bool) -> None:
        server = self.server
        class_type = self.item.prompt[node_id]["class_type"]
        await self._progress_state(node_id, 0.0, 1.0, "running")
        server.last_node_id = node_id
        await self._to_client("executing", {"node": node_id, "display_node": node_id, "prompt_id": self.pid})
        if fault_here and self.plan.crash:
            raise CrashNow()
        self._check_interrupt()
        if fault_here and self.plan.hang:
            await server.interrupt_event.wait()
            self._check_interrupt()
        try:
            kwargs = self._inputs(node_id)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise NodeFailure(type(exc).__name__, f"{exc}\n") from exc
        self.current_inputs = kwargs
        if class_type in nodes.SAMPLERS or class_type == batch_nodes.TEMPORAL:
            await self._sample(node_id, kwargs)
        if fault_here and self.plan.fail:
            raise NodeFailure("RuntimeError", "Simulated failure (fail_rate fault of nuke-comfyui sim)\n")
        func = nodes.FUNCTIONS[class_type]
        ctx = nodes.NodeContext(server.folders, self.item.prompt, self.item.extra_data, server.options.profile)
        loop = asyncio.get_running_loop()
        try:
            values, ui = await loop.run_in_executor(server.pool, lambda: func(ctx, **kwargs))
        except FileNotFoundError as exc:
            raise NodeFailure("FileNotFoundError", f"{exc}\n") from exc
        except (OSError, ValueError, TypeError, KeyError, IndexError, ZeroDivisionError) as exc:
            kind = getattr(exc, "exception_type", None) or full_type_name(exc)
            raise NodeFailure(kind, f"{exc}\n") from exc
        self.values[node_id] = values
        server.cache[node_id] = (self._signature(node_id), values, ui)
        if ui is not None:
            self.outputs[node_id] = ui
            self.meta[node_id] = self._meta(node_id)
            await self._to_client(
                "executed", {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": self.pid}
            )
        await self._progress_state(node_id, 1.0, 1.0, "finished")

    async def _sample(self, node_id: str, kwargs: Dict[str, Any]) -> None:
        """Spend steps x seconds_per_step / speed, one `progress` per step, interruptible."""
        server = self.server
        latent = kwargs.get("latent_image") or kwargs.get("image") or []  # a temporal node holds its whole batch
        if server.vram_gb is not None:
            need = nodes.latent_megapixels(latent) * GB_PER_MEGAPIXEL
            if need > server.vram_gb:
                raise NodeFailure(
                    "torch.OutOfMemoryError",
                    f"Allocation on device would exceed allowed memory. (out of memory)\n"
                    f"Currently allocated     : 0 B\nRequested               : {need:.2f} GiB\n"
                    f"Device limit            : {server.vram_gb:.2f} GiB\n",
                )
        steps = int(kwargs.get("steps", 1))
        workload = server.options.workload
        batch = len(latent) if "image" in kwargs else 1  # a temporal node's cost grows with its batch
        per_step = server.seconds_per_step * batch * workload.cost_factor(kwargs) / server.current_speed()
        for step in range(1, steps + 1):
            if per_step > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(server.interrupt_event.wait(), timeout=per_step)
            self._check_interrupt()
            if workload.lean:
                continue
            # a real server's order per step (captured on 0.33): progress_state, a type 4 preview,
            # progress, a type 1 preview (main.py's progress hook; type 4 from the progress registry)
            await self._progress_state(node_id, float(step), float(steps), "running")
            await previews.send_step_preview(self, node_id, step, steps, kwargs, with_metadata=True)
            await server.send(
                "progress", {"value": step, "max": steps, "prompt_id": self.pid, "node": node_id}, self.sid
            )
            await previews.send_step_preview(self, node_id, step, steps, kwargs, with_metadata=False)

    def _check_interrupt(self) -> None:
        if self.server.interrupt_event.is_set():
            raise Interrupted()

    def _interrupted_data(self, node_id: Optional[str]) -> Dict[str, Any]:
        return {
            "prompt_id": self.pid,
            "node_id": node_id,
            "node_type": self.item.prompt[node_id]["class_type"] if node_id else None,
            "executed": list(reversed(self.executed)),
        }

    def _error_data(self, node_id: Optional[str], exc: NodeFailure) -> Dict[str, Any]:
        node = self.item.prompt.get(node_id or "", {})
        current_inputs = {
            k: [v] for k, v in node.get("inputs", {}).items() if not (isinstance(v, list) and len(v) == 2)
        }
        return {
            "prompt_id": self.pid,
            "node_id": node_id,
            "node_type": node.get("class_type"),
            "executed": list(reversed(self.executed)),
            "exception_message": exc.message,
            "exception_type": exc.exception_type,
            "traceback": ["<simulated traceback>"],
            "current_inputs": current_inputs,
            "current_outputs": [n for n in self.order if n not in self.executed],
        }

    async def _finish(self, outcome: Tuple[str, Optional[Dict[str, Any]]]) -> None:
        kind, data = outcome
        server = self.server
        if kind == "success":
            await self._add_message("execution_success", {"prompt_id": self.pid})
        elif kind == "error":
            await self._add_message("execution_error", data or {})
        else:
            await self._add_message("execution_interrupted", data or {})
        live = set(self.order)
        for stale in [n for n in server.cache if n not in live]:
            del server.cache[stale]
        entry = {
            "prompt": self.item.as_list(),
            "outputs": self.outputs,
            "status": {
                "status_str": "success" if kind == "success" else "error",
                "completed": kind == "success",
                "messages": [[event, msg] for event, msg in self.messages],
            },
            "meta": self.meta,
        }
        server.queue.finish(self.item, entry)
        server.record_execution(self.item, kind)
        await server.broadcast_status()
        await self._to_client("executing", {"node": None, "prompt_id": self.pid})
