"""`nuke-comfyui demo`: the README's main command — a real render on the embedded default cluster.

With no servers configured it starts the built-in simulated cluster (four ComfyUI look-alikes of
mixed speed on 127.0.0.1), makes a short input plate, renders it frame by frame through the
bundled img2img workflow and a four-variation seed group through the txt2img workflow, all with
the production scheduler, then prints where the files are. With servers configured (settings
file or NUKE_COMFYUI_* variables) it renders on those instead; `--sim` forces the simulator.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Iterator, List

HELP = "render a demo plate and a seed group on the simulated cluster (or on your configured servers)"

DEMO_SPEEDS = [1, 1, 2, 4]
DEMO_SECONDS_PER_STEP = 0.05


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", default="nuke-comfyui-demo",
                        help="folder for the plate and the results (default ./nuke-comfyui-demo)")
    parser.add_argument("--frames", type=int, default=12, help="length of the demo plate (default 12)")
    parser.add_argument("--variations", type=int, default=4, help="seed variations to render (default 4)")
    parser.add_argument("--sim", action="store_true",
                        help="use the simulated cluster even if servers are configured")
    parser.add_argument("--config", default=None, help="server settings file (default: the per-user one)")
    parser.add_argument("--json", action="store_true", help="print JSON summaries instead of text")


def run(args: argparse.Namespace) -> int:
    from nuke_comfyui.cli.extras import require_sim
    from nuke_comfyui.cli.farm_session import farm_session, stop_if_interrupted
    from nuke_comfyui.cli.follow import follow_groups
    from nuke_comfyui.core.examples import example_workflow
    from nuke_comfyui.core.render_request import RenderRequest

    require_sim()  # the plate is drawn with Pillow; the simulated cluster needs the rest
    output = Path(args.output).resolve()
    plate = make_plate(output / "plate", args.frames)
    with cluster_config(args, output) as loaded:
        names = ", ".join(f"{s.name} ({s.base_url})" for s in loaded.cluster.servers)
        print(f"servers: {names}", flush=True)
        hint = "or run the demo on the simulator: `nuke-comfyui demo --sim`"
        with farm_session(args, loaded, hint=hint) as farm:
            renders = str(output / "renders")
            requests = [
                RenderRequest(workflow_path=str(example_workflow("img2img.json")), output_dir=renders,
                              input_pattern=str(plate), frames=f"1001-{1000 + args.frames}",
                              label="plate_img2img"),
                RenderRequest(workflow_path=str(example_workflow("txt2img_variations.json")), output_dir=renders,
                              variations=args.variations, seed_strategy="golden", base_seed=1234,
                              label="seed_group"),
            ]
            stop_if_interrupted()
            group_ids = [farm.scheduler.submit(request) for request in requests]  # both run at once
            followed = follow_groups(farm.scheduler, group_ids, as_json=args.json, pool=farm.pool)
    if any(snapshot.done for snapshot in followed.snapshots):
        print(f"\ninput plate: {plate}\nresults:     {output / 'renders'}")
    else:
        print(f"\nnothing was rendered (input plate: {plate}); the summary above says why", file=sys.stderr)
    return followed.exit_code


def make_plate(folder: Path, frames: int) -> Path:
    """A small moving-gradient PNG sequence `plate.####.png` starting at frame 1001 (needs Pillow)."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    for index in range(frames):
        image = Image.new("RGB", (64, 64))
        draw = ImageDraw.Draw(image)
        for y in range(64):
            draw.line([(0, y), (63, y)], fill=(y * 4, 64 + index * 8 % 128, 255 - y * 4))
        x = 8 + index * 40 // max(1, frames - 1)
        draw.ellipse([x, 24, x + 16, 40], fill=(255, 220, 0))
        image.save(folder / f"plate.{1001 + index:04d}.png")
    return folder / "plate.####.png"


@contextlib.contextmanager
def cluster_config(args: argparse.Namespace, output: Path) -> Iterator[Any]:
    """The configured servers, or a simulated cluster for as long as the demo runs."""
    from nuke_comfyui.core.config_loader import load_config

    loaded = load_config(args.config)
    if not args.sim and not is_default(loaded):
        yield loaded
        return
    from nuke_comfyui.sim.cluster import SimCluster

    sim_root = output / "simulated-servers"  # inside the folder the user chose, like everything else
    with SimCluster(len(DEMO_SPEEDS), base_dir=sim_root, speeds=DEMO_SPEEDS,
                    seconds_per_step=DEMO_SECONDS_PER_STEP) as cluster:
        print(f"no servers configured: started a simulated cluster of {len(cluster.urls)} servers "
              f"(speeds {', '.join(map(str, DEMO_SPEEDS))}) under {sim_root}")
        yield simulated_config(cluster, loaded)


def is_default(loaded: Any) -> bool:
    """True when nothing configured any server (load_config fell back to 127.0.0.1:8188)."""
    sources: List[str] = list(getattr(loaded, "sources", []) or [])
    return not sources or all("default" in source for source in sources)


def simulated_config(cluster: Any, loaded: Any) -> Any:
    """Two servers see the simulator's folders as shared storage, two receive uploads: both paths run."""
    from nuke_comfyui.core.config import ClusterConfig, ServerConfig
    from nuke_comfyui.core.config_loader import LoadedConfig

    servers = []
    for index, handle in enumerate(cluster.servers):
        shared = index % 2 == 1
        root = str(handle.base_dir) + os.sep
        servers.append(ServerConfig(
            name=f"sim{index + 1}-x{DEMO_SPEEDS[index]}", host="127.0.0.1", port=handle.port,
            transfer="shared" if shared else "upload",
            dir_local=root if shared else "", dir_remote=root if shared else "",
        ))
    cluster_cfg = ClusterConfig(servers=servers, poll_interval=0.5)
    return LoadedConfig(cluster=cluster_cfg, sources=["simulator"] * len(servers), path=None)
