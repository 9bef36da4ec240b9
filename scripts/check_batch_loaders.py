"""Hand check on a real ComfyUI: which core loaders keep a chunk's frames in order and intact.

    python scripts/check_batch_loaders.py http://127.0.0.1:8233 /tmp/batch-check

Uploads six random 40x24 frames, joins them by each candidate path (per-frame LoadImage +
BatchImagesNode / ImageBatch, LoadImageDataSetFromFolder, a lossless video through LoadVideo ->
GetVideoComponents), saves with SaveImage and compares with the inputs. The records it wrote for
ComfyUI 0.33.0 and 0.8.2 are tests/integration/data/comfyui-*-batch-loaders.json; what they
decided is in docs/TEMPORAL.md. Needs numpy, Pillow and PyAV (the sim extra). Never run by tests.
"""

from __future__ import annotations

import io
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nuke_comfyui.core.comfy.client import ComfyClient
from nuke_comfyui.core.config import ServerConfig

FRAMES = 6


def png(pixels: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


class Check:
    """One server, its uploads and the record of what each path did."""

    def __init__(self, url: str, out: Path) -> None:
        self.client = ComfyClient(ServerConfig(name="real", url=url))
        self.out = out
        self.record: Dict[str, Any] = {"server": url, "checks": {}}

    def run(self, prompt: Dict[str, Any], name: str) -> Optional[List[Any]]:
        prompt_id = str(uuid.uuid4())
        started = time.monotonic()
        self.client.submit(prompt, client_id="nkc-check", prompt_id=prompt_id)
        entry = None
        while entry is None and time.monotonic() - started < 120:
            entry = self.client.history(prompt_id)
            time.sleep(0.05)
        seconds = time.monotonic() - started
        if entry is None or entry.status_str != "success":
            self.record["checks"][name] = {"error": str(getattr(entry, "failure", None))}
            return None
        images = []
        for k, item in enumerate(entry.outputs):
            path = self.client.download(item, self.out, f"{name}_{k}.png")
            images.append(np.asarray(Image.open(path).convert("RGB")))
        self.record["checks"][name] = {"seconds": round(seconds, 3), "outputs": len(images), "prompt": prompt}
        return images

    def compare(self, name: str, got: Optional[List[Any]], want: List[Any]) -> None:
        result: Dict[str, Any] = {"count": [len(got or []), len(want)]}
        if got is not None and len(got) == len(want):
            order = []
            for image in got:
                errors = [int(np.abs(image.astype(int) - w.astype(int)).max()) if image.shape == w.shape else 999
                          for w in want]
                order.append(int(np.argmin(errors)))
            result["order"] = order
            result["max_abs_error"] = [int(np.abs(g.astype(int) - want[o].astype(int)).max())
                                       for g, o in zip(got, order)]
            result["sizes_kept"] = all(g.shape == want[o].shape for g, o in zip(got, order))
        self.record["checks"].setdefault(name, {}).update(result)
        print(name, result)


def video(frames: List[Any], codec: str, pixel_format: str, options: Dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = pixel_format
        stream.options = options
        for pixels in frames:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format=pixel_format)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def main(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    check = Check(url, out)
    client = check.client
    rng = np.random.default_rng(23)
    frames = [rng.integers(0, 256, (24, 40, 3), dtype=np.uint8) for _ in range(FRAMES)]
    tag = uuid.uuid4().hex[:6]
    names = [client.upload_image(png(a), f"nkc_{tag}_{k:04d}.png", subfolder=f"nkc_check_{tag}",
                                 kind="input").load_image_value for k, a in enumerate(frames)]
    loaders = {str(10 + k): {"class_type": "LoadImage", "inputs": {"image": n}} for k, n in enumerate(names)}

    keys = list(range(FRAMES))
    random.Random(3).shuffle(keys)  # the node's inputs in shuffled key order: is the batch in name order?
    prompt = dict(loaders)
    prompt["1"] = {"class_type": "BatchImagesNode", "inputs": {f"images.image{k}": [str(10 + k), 0] for k in keys}}
    prompt["2"] = {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": f"nkc_check/{tag}_b"}}
    check.compare("LoadImage+BatchImagesNode", check.run(prompt, "LoadImage+BatchImagesNode"), frames)

    prompt = dict(loaders)
    previous = ["10", 0]
    for k in range(1, FRAMES):
        prompt[str(30 + k)] = {"class_type": "ImageBatch", "inputs": {"image1": previous, "image2": [str(10 + k), 0]}}
        previous = [str(30 + k), 0]
    prompt["2"] = {"class_type": "SaveImage", "inputs": {"images": previous, "filename_prefix": f"nkc_check/{tag}_i"}}
    check.compare("LoadImage+ImageBatch", check.run(prompt, "LoadImage+ImageBatch"), frames)

    folder = f"nkc_folder_{tag}"
    for k in reversed(range(FRAMES)):
        client.upload_image(png(frames[k]), f"f_{k:04d}.png", subfolder=folder, kind="input")
    prompt = {"1": {"class_type": "LoadImageDataSetFromFolder", "inputs": {"folder": folder}},
              "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": f"nkc_check/{tag}_f"}}}
    check.compare("LoadImageDataSetFromFolder", check.run(prompt, "LoadImageDataSetFromFolder"), frames)

    for label, codec, pixel_format, options in (("ffv1_bgr0", "ffv1", "bgr0", {}),
                                                ("x264rgb_qp0", "libx264rgb", "rgb24", {"qp": "0"})):
        name = f"LoadVideo({label} mkv)+GetVideoComponents"
        uploaded = client.upload_image(video(frames, codec, pixel_format, options), f"nkc_{tag}_{label}.mkv",
                                       kind="input")
        prompt = {"1": {"class_type": "LoadVideo", "inputs": {"file": uploaded.load_image_value}},
                  "3": {"class_type": "GetVideoComponents", "inputs": {"video": ["1", 0]}},
                  "2": {"class_type": "SaveImage",
                        "inputs": {"images": ["3", 0], "filename_prefix": f"nkc_check/{tag}_{label}"}}}
        check.compare(name, check.run(prompt, name), frames)

    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": names[0]}},
              "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": f"nkc_check/{tag}_1"}}}
    check.compare("LoadImage identity", check.run(prompt, "LoadImage identity"), frames[:1])
    (out / "record.json").write_text(json.dumps(check.record, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
