"""Host fixes for the rules the stricter fake enforces: raw job state, Read reuse as Nuke reads it,
the plate Write's knobs, Read colour spaces, Cancel off the main thread, the headless command line."""

from __future__ import annotations

import json
import struct
import threading
import time
from pathlib import Path
from typing import Any, List

import nuke
import pytest

from nuke_comfyui.host import headless, job_state, render
from nuke_comfyui.host.inputs import SharedFolder, prepare_input
from nuke_comfyui.host.knobs import FrameRange
from nuke_comfyui.host.read_nodes import sync_reads
from nuke_comfyui.host.session import HostSession, set_session

SPAN = FrameRange("1001-1003", 1001, 1003)
FRAMES = [1001, 1002, 1003]
NASTY_ERROR = 'Prompt outputs failed: [Errno 2] "C:\\models\\sd15.ckpt" not found; $HOME unset'


def _png_kind(path: Path) -> Any:
    return struct.unpack(">BB", path.read_bytes()[24:26])   # bit depth, colour type (2 RGB, 6 RGBA)


def _plate(folder: Path, first: int = 1001, last: int = 1003) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write = nuke.nodes.Write(file=str(folder / "plate.%04d.png"))
    constant = nuke.nodes.Constant()
    write.setInput(0, constant)
    nuke.execute(write, first, last)
    nuke.delete(write)
    nuke.delete(constant)
    return folder / "plate.%04d.png"


def _comfy_on(upstream: Any) -> Any:
    node = nuke.nodes.ComfyRender()
    node.setInput(0, upstream)
    return node


def test_job_state_with_tcl_characters_survives_evaluation_and_a_reopen(tmp_path):
    node = nuke.createNode("ComfyRender")
    state = job_state.NodeJobState(group_id="g1", reported_failures={"j1": NASTY_ERROR})
    job_state.save(node, state)
    with pytest.raises(RuntimeError):
        node["job_state"].value()            # what Nuke's evaluation would do to it
    assert job_state.load(node) == state
    nuke.scriptSave(str(tmp_path / "s.nk"))
    nuke.scriptOpen(str(tmp_path / "s.nk"))
    assert job_state.load(nuke.toNode("ComfyRender1")) == state


def test_damaged_job_state_is_reported_on_the_node(caplog):
    node = nuke.createNode("ComfyRender")
    node["job_state"].setValue('{"group_id": "g1", "rea')
    assert job_state.load(node).group_id == ""
    assert str(node["status"].value()).startswith("job state damaged: unreadable job state")
    assert "press Render" in caplog.text
    assert node["job_state"].getText() == '{"group_id": "g1", "rea'    # nothing thrown away


def test_read_reuse_follows_project_directory_and_tcl(tmp_path):
    shared = tmp_path / "comfy"
    _plate(shared / "input" / "shot")
    nuke.root()["project_directory"].setValue(str(shared))
    read = nuke.nodes.Read(first=1001, last=1003)
    options = dict(shared=[SharedFolder("gpu1", str(shared))], upload=False, output_dir=str(tmp_path / "o"))
    read["file"].setValue("input/shot/plate.%04d.png")      # relative to the project directory
    plan = prepare_input(_comfy_on(read), SPAN, FRAMES, **options)
    assert plan is not None and not plan.written and plan.pattern == f"{shared}/input/shot/plate.%04d.png"
    read["file"].setValue("[exec rm -rf /]/plate.%04d.png")  # does not evaluate: Nuke renders it (fake raises)
    with pytest.raises(RuntimeError):
        prepare_input(_comfy_on(read), SPAN, FRAMES, **options)


def test_offset_or_missing_frames_mean_the_plate_is_written(tmp_path):
    shared = tmp_path / "comfy"
    pattern = _plate(shared / "input" / "shot", 1, 3)
    options = dict(shared=[SharedFolder("gpu1", str(shared))], upload=False, output_dir=str(tmp_path / "o"))
    read = nuke.nodes.Read(file=str(pattern), first=1, last=3)
    read["frame_mode"].setValue("start at")
    read["frame"].setValue("1001")                 # files 1-3 shown as 1001-1003
    plan = prepare_input(_comfy_on(read), SPAN, FRAMES, **options)
    assert plan is not None and plan.written
    written = Path(plan.pattern % 1001)
    assert written.is_file()
    pattern2 = _plate(tmp_path / "gappy", 1001, 1003)
    Path(str(pattern2) % 1002).unlink()
    read2 = nuke.nodes.Read(file=str(pattern2), first=1001, last=1003, on_error="black")
    assert prepare_input(_comfy_on(read2), SPAN, FRAMES, shared=[], upload=True,
                         output_dir=str(tmp_path / "o2")).written


def test_plate_write_turns_proxy_off_picks_a_view_and_a_colour_space(tmp_path):
    nuke.root()["proxy"].setValue(True)
    nuke.root()["views"].setValue("left right")
    grade = nuke.nodes.Grade()
    grade.setInput(0, nuke.nodes.Constant())
    plan = prepare_input(_comfy_on(grade), SPAN, FRAMES, shared=[], upload=True, output_dir=str(tmp_path))
    assert plan is not None and plan.written
    assert _png_kind(Path(plan.pattern % 1001)) == (8, 2)          # RGB, no alpha asked
    assert nuke.root()["proxy"].value() is True                     # the artist's toggle is back


def test_plate_has_alpha_when_the_workflow_reads_the_mask(tmp_path):
    workflow = {"1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
                "2": {"class_type": "SetLatentNoiseMask", "inputs": {"mask": ["1", 1], "samples": ["3", 0]}},
                "3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
                "4": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}
    path = tmp_path / "inpaint.json"
    path.write_text(json.dumps(workflow))
    from nuke_comfyui.host.workflow_facts import image_slots_of

    masks = image_slots_of(str(path))
    plain = image_slots_of(str(Path(__file__).parents[2] / "examples/invert.json"))
    assert masks is not None and [s.image.invert_alpha for s in masks[0]] == [True]
    assert plain is not None and [s.image.uses_alpha for s in plain[0]] == [False]
    pattern = _plate(tmp_path / "plate")
    read = nuke.nodes.Read(file=str(pattern), first=1001, last=1003)
    plan = prepare_input(_comfy_on(read), SPAN, FRAMES, shared=[], upload=True, output_dir=str(tmp_path / "o"),
                         with_alpha=True)
    assert plan is not None and plan.written and _png_kind(Path(plan.pattern % 1001)) == (8, 6)


class _Seq:
    def __init__(self, pattern: str, output_node: str = "9", done: List[int] = ()) -> None:  # type: ignore[assignment]
        self.variation, self.seed, self.output_node = 0, 7, output_node
        self.pattern, self.first, self.last = pattern, 1, 1
        self.frames_done, self.servers = list(done), ["gpu1"]


def test_read_colour_space_follows_the_file_type(tmp_path):
    comfy = nuke.createNode("ComfyRender")
    names = sync_reads(comfy, [_Seq("/o/a.%04d.exr", "9", [1]), _Seq("/o/b.%04d.png", "10", [1])], {},
                       {"9": "depth", "10": "beauty"})
    assert nuke.toNode(names["0/9"])["colorspace"].value() == "linear"
    assert nuke.toNode(names["0/10"])["colorspace"].value() == "sRGB"
    assert set(names.values()) == {f"{comfy.name()}_depth_var01", f"{comfy.name()}_beauty_var01"}


class _SlowScheduler:
    """cancel() blocks like a request to a server that does not answer."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.cancelled: List[str] = []

    def cancel(self, group_id: str) -> None:
        self.release.wait(10)
        self.cancelled.append(group_id)

    def snapshot(self, group_id: str) -> Any:
        raise LookupError("no snapshot in this stand-in")


class _Farm:
    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def stop(self) -> None:
        return None


def test_cancel_returns_at_once_and_reports_back_on_the_main_thread(monkeypatch):
    scheduler = _SlowScheduler()
    set_session(HostSession(_Farm(scheduler)))  # type: ignore[arg-type]
    node = nuke.createNode("ComfyRender")
    job_state.save(node, job_state.NodeJobState(group_id="g1"))
    applied = []
    monkeypatch.setattr(render, "apply_snapshot", lambda name, snap: applied.append(name))
    monkeypatch.setattr(scheduler, "snapshot", lambda group_id: "snap")
    started = time.monotonic()
    worker = render.cancel_node(node.fullName())
    assert time.monotonic() - started < 1 and worker is not None and worker.is_alive()
    assert "cancelling" in str(node["status"].value())
    scheduler.release.set()
    worker.join(5)
    assert scheduler.cancelled == ["g1"] and applied == []      # nothing touched Nuke off the main thread
    nuke._fake_pump()
    assert applied == [node.fullName()]


def test_headless_reads_its_arguments_from_raw_args():
    nuke._fake_run_as_terminal([headless.__file__, "shot.nk", "--nodes", "C1", "--frames", "1001-1100"])
    args = headless.build_parser().parse_args(headless.command_line())
    assert (args.script, args.nodes, args.frames) == ("shot.nk", "C1", "1001-1100")


def test_headless_saves_beside_the_script_unless_asked():
    parse = headless.build_parser().parse_args
    assert headless.results_script(parse(["/s/shot.nk"])) == "/s/shot.comfyui.nk"
    assert headless.results_script(parse(["/s/shot.nk", "--frames=1001-1100x2"])) == "/s/shot.comfyui_1001-1100x2.nk"
    assert headless.results_script(parse(["/s/shot.nk", "--save"])) == "/s/shot.nk"
    assert headless.results_script(parse(["/s/shot.nk", "--save-as", "/t/x.nk"])) == "/t/x.nk"
    assert headless.results_script(parse(["/s/shot.nk", "--no-save"])) is None


def test_preview_outputs_get_a_read_only_when_nothing_is_saved():
    from nuke_comfyui.host.read_nodes import kept_sequences

    saved, preview = _Seq("/o/s.%04d.png", "9", [1]), _Seq("/t/p.%04d.png", "12", [1])
    assert kept_sequences([saved, preview], ["12"]) == [saved]
    assert kept_sequences([preview], ["12"]) == [preview]
