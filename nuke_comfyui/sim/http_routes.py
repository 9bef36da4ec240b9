"""The HTTP routes of a simulated ComfyUI 0.8 server (everything but the WebSocket).

A mixin of `SimServer` (sim/server.py): each handler answers in the shapes of the recorded
captures, reading and changing only the server's own state on its event loop.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import Any, Dict

from aiohttp import web

from nuke_comfyui.sim import jobs
from nuke_comfyui.sim.files import Folders
from nuke_comfyui.sim.state import QueueItem
from nuke_comfyui.sim.validation import validate_prompt

log = logging.getLogger(__name__)

TROUBLE = "500 Internal Server Error\n\nServer got itself in trouble"
FEATURES = {
    "supports_preview_metadata": True,
    "max_upload_size": 104857600,
    "extension": {"manager": {"supports_v4": True}},
}
RAM_TOTAL = 25276514304


class HttpRoutes:
    """The handlers of /prompt, /queue, /history, /jobs, /view, /upload, /interrupt, /free,
    /system_stats and /object_info; `SimServer` is the only class that mixes this in, and the
    handlers use its state (queue, options, folders, catalog, profile) and its `send`/`wake`."""

    async def h_post_prompt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _trouble()
        if not isinstance(body, dict):
            return _trouble()
        if "number" in body:
            try:
                number: float = float(body["number"])
            except (TypeError, ValueError):
                return _trouble()
        else:
            number = self.number
            if body.get("front"):
                number = -number
            self.number += 1
        if "prompt" not in body:
            error = {
                "type": "no_prompt",
                "message": "No prompt provided",
                "details": "No prompt provided",
                "extra_info": {},
            }
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        prompt = body["prompt"]
        if not isinstance(prompt, dict):
            return _trouble()
        prompt_id = self.options.profile.prompt_id_for(body)
        verdict = validate_prompt(prompt, self.catalog, self.folders)
        if verdict.error is not None:
            return web.json_response({"error": verdict.error, "node_errors": verdict.node_errors}, status=400)
        extra_data = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra_data["client_id"] = body["client_id"]
        extra_data["create_time"] = int(time.time() * 1000)
        self.prompt_count += 1
        item = QueueItem(number, prompt_id, prompt, extra_data, verdict.good_outputs, self.prompt_count)
        self.queue.put(item)
        assert self._wake is not None
        self._wake.set()
        await self.broadcast_status()
        return web.json_response(
            {"prompt_id": prompt_id, "number": number, "node_errors": verdict.node_errors}
        )

    async def h_get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response(self.queue_info())

    async def h_get_queue(self, request: web.Request) -> web.Response:
        running = [self.queue.running.as_list()] if self.queue.running is not None else []
        pending = [item.as_list() for item in self.queue.pending()]
        return web.json_response({"queue_running": running, "queue_pending": pending})

    async def h_post_queue(self, request: web.Request) -> web.Response:
        body = await _json_or_empty(request)
        if body.get("clear"):
            self.queue.clear()
            await self.broadcast_status()
        if isinstance(body.get("delete"), list) and self.queue.delete([str(x) for x in body["delete"]]):
            await self.broadcast_status()
        return web.Response(status=200)

    async def h_get_history(self, request: web.Request) -> web.Response:
        max_items = request.query.get("max_items")
        offset = int(request.query.get("offset", -1))
        return web.json_response(self.queue.history_slice(int(max_items) if max_items else None, offset))

    async def h_get_history_id(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self.queue.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry is not None else {})

    async def h_post_history(self, request: web.Request) -> web.Response:
        body = await _json_or_empty(request)
        if body.get("clear"):
            self.queue.history.clear()
        if isinstance(body.get("delete"), list):
            for prompt_id in body["delete"]:
                self.queue.history.pop(str(prompt_id), None)
        return web.Response(status=200)

    async def h_jobs(self, request: web.Request) -> web.Response:
        try:
            return web.json_response(jobs.list_jobs(self.queue, dict(request.query)))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)

    async def h_job(self, request: web.Request) -> web.Response:
        job = jobs.get_job(self.queue, request.match_info["job_id"])
        if job is None:
            return web.json_response({"error": "Job not found"}, status=404)
        return web.json_response(job)

    async def h_view(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if "filename" not in query:
            return web.Response(status=404)
        filename, kind = Folders.split_annotation(query["filename"], "")
        if not filename or filename[0] == "/" or ".." in filename:
            return web.Response(status=400)
        root = self.folders.dir_for(kind or query.get("type", "output"))
        if root is None:
            return web.Response(status=400)
        folder = root
        if "subfolder" in query:
            folder = root / query["subfolder"]
            if not self.folders.inside(root, folder):
                return web.Response(status=403)
        path = folder / os.path.basename(filename)
        if not path.is_file():
            return web.Response(status=404)
        return web.FileResponse(path, headers={"Content-Disposition": f'filename="{path.name}"'})

    async def h_upload(self, request: web.Request) -> web.Response:
        try:
            post = await request.post()
        except ValueError:
            return web.Response(status=400)
        image = post.get("image")
        if image is None or not hasattr(image, "file"):
            return web.Response(status=400)
        kind = str(post.get("type") or "input")
        root = self.folders.dir_for(kind)
        filename = getattr(image, "filename", "") or ""
        if root is None or not filename:
            return web.Response(status=400)
        subfolder = str(post.get("subfolder", ""))
        folder = root / os.path.normpath(subfolder) if subfolder else root
        path = folder / filename
        if not self.folders.inside(root, path):
            return web.Response(status=400)
        data = image.file.read()
        overwrite = str(post.get("overwrite", "")) in ("true", "1")
        duplicate = False
        if not overwrite:
            stem, ext = os.path.splitext(filename)
            i = 1
            while path.exists():
                if hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest():
                    duplicate = True
                    break
                filename = f"{stem} ({i}){ext}"
                path = folder / filename
                i += 1
        if not duplicate:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return web.json_response({"name": filename, "subfolder": subfolder, "type": kind})

    async def h_interrupt(self, request: web.Request) -> web.Response:
        body = await _json_or_empty(request)
        requested = body.get("prompt_id")
        running = self.queue.running
        if self.options.profile.interrupts(str(requested) if requested else None,
                                           running.prompt_id if running is not None else None):
            self.interrupt_event.set()
        return web.Response(status=200)

    async def h_free(self, request: web.Request) -> web.Response:
        await _json_or_empty(request)
        self.cache.clear()
        return web.Response(status=200)

    async def h_system_stats(self, request: web.Request) -> web.Response:
        if self.vram_gb is not None:
            total = int(self.vram_gb * 1024**3)
            device = {
                "name": f"cuda:0 Simulated GPU {self.index} : cudaMallocAsync",
                "type": "cuda",
                "index": 0,
                "vram_total": total,
                "vram_free": total,
                "torch_vram_total": total,
                "torch_vram_free": total,
            }
            argv = ["main.py", "--listen", "127.0.0.1", "--port", str(self.port)]
        else:
            free = RAM_TOTAL - 1_000_000_000
            device = {
                "name": "cpu",
                "type": "cpu",
                "index": None,
                "vram_total": RAM_TOTAL,
                "vram_free": free,
                "torch_vram_total": RAM_TOTAL,
                "torch_vram_free": free,
            }
            argv = ["main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port)]
        system = {
            "os": "linux",
            "ram_total": RAM_TOTAL,
            "ram_free": RAM_TOTAL - 1_000_000_000,
            "comfyui_version": self.options.profile.version,
            "required_frontend_version": "1.35.9",
            "installed_templates_version": "0.7.67",
            "required_templates_version": "0.7.67",
            "python_version": "3.11.7 (nuke-comfyui sim)",
            "pytorch_version": "2.14.1+sim",
            "embedded_python": False,
            "argv": [*argv, "--base-directory", str(self.base_dir)],
        }
        return web.json_response({"system": system, "devices": [device]})

    async def h_object_info(self, request: web.Request) -> web.Response:
        return web.json_response(self.catalog.object_info(self.base_dir / "input"))

    async def h_object_info_one(self, request: web.Request) -> web.Response:
        return web.json_response(
            self.catalog.object_info(self.base_dir / "input", request.match_info["node_class"])
        )

    async def h_features(self, request: web.Request) -> web.Response:
        return web.json_response(FEATURES)

    async def h_empty_list(self, request: web.Request) -> web.Response:
        return web.json_response([])


def _trouble() -> web.Response:
    return web.Response(status=500, text=TROUBLE, content_type="text/plain")


async def _json_or_empty(request: web.Request) -> Dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
