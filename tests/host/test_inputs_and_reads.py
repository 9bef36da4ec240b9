"""Input frames: written through a temporary Write, or skipped for an unmodified Read already on
shared storage. Results: one Read per sequence with file/first/last/origfirst/origlast/on_error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import nuke

from nuke_comfyui.host.inputs import InputPlan, SharedFolder, prepare_input
from nuke_comfyui.host.knobs import FrameRange
from nuke_comfyui.host.read_nodes import label_for, read_name, sync_reads


def _plate(folder, first=1001, last=1004):
    folder.mkdir(parents=True, exist_ok=True)
    constant = nuke.nodes.Constant()
    write = nuke.nodes.Write(file=str(folder / "plate.%04d.png"))
    write.setInput(0, constant)
    nuke.execute(write, first, last)
    nuke.delete(write)
    nuke.delete(constant)
    return nuke.nodes.Read(file=str(folder / "plate.%04d.png"), first=first, last=last)


def _comfy_with(upstream):
    node = nuke.createNode("ComfyRender")
    node.setInput(0, upstream)
    return node


SPAN = FrameRange("1001-1004", 1001, 1004)
FRAMES = [1001, 1002, 1003, 1004]


def test_unmodified_read_on_shared_storage_is_not_rewritten(tmp_path):
    shared = tmp_path / "comfy_root"
    read = _plate(shared / "input" / "shot")
    node = _comfy_with(read)
    plan = prepare_input(node, SPAN, FRAMES, shared=[SharedFolder("gpu1", str(shared))], upload=False,
                         output_dir=str(tmp_path / "out"))
    assert plan == InputPlan(pattern=str(shared / "input" / "shot" / "plate.%04d.png"), written=False)
    assert nuke._fake_state().executed == [("Write1", 1001, 1004)]  # only the plate set-up write


def test_read_outside_shared_storage_is_written_into_the_shared_input_folder(tmp_path):
    shared = tmp_path / "comfy_root"
    read = _plate(tmp_path / "elsewhere")
    node = _comfy_with(read)
    plan = prepare_input(node, SPAN, FRAMES, shared=[SharedFolder("gpu1", str(shared))], upload=False,
                         output_dir=str(tmp_path / "out"))
    assert plan is not None and plan.written
    assert plan.pattern.startswith(str(shared / "input" / "nuke_comfyui" / node.name()))
    written = sorted(p.name for p in (shared / "input" / "nuke_comfyui").rglob("*.png"))
    assert written == [f"{node.name()}.{f}.png" for f in FRAMES]
    assert not [n for n in nuke.allNodes("Write")], "the temporary Write must be deleted"


def test_modified_read_is_written(tmp_path):
    shared = tmp_path / "comfy_root"
    read = _plate(shared / "input" / "shot")
    read["raw"].setValue(True)
    plan = prepare_input(_comfy_with(read), SPAN, FRAMES, shared=[SharedFolder("gpu1", str(shared))],
                         upload=False, output_dir=str(tmp_path / "out"))
    assert plan is not None and plan.written


def test_processed_input_with_upload_goes_under_the_output_folder(tmp_path):
    grade = nuke.nodes.Grade()
    grade.setInput(0, nuke.nodes.Constant())
    node = _comfy_with(grade)
    out = str(tmp_path / "out")
    plan = prepare_input(node, SPAN, [1001, 1003, 1004], shared=[], upload=True, output_dir=out)
    assert plan is not None and plan.written and plan.pattern.startswith(str(tmp_path / "out" / "_input"))
    assert len(list((tmp_path / "out" / "_input").rglob("*.png"))) == 3
    writes = [e[1:] for e in nuke._fake_state().executed if e[0].startswith("Write")]
    assert writes == [(1001, 1001), (1003, 1004)]  # one Write execute per contiguous run


def test_no_input_means_no_input_pattern(tmp_path):
    node = nuke.createNode("ComfyRender")
    assert prepare_input(node, SPAN, FRAMES, shared=[], upload=True, output_dir=str(tmp_path)) is None


@dataclass(frozen=True)
class Seq:
    """Same fields as core's OutputSequence (the contract host reads)."""

    variation: int
    seed: int
    pattern: str
    first: int
    last: int
    frames_done: List[int] = field(default_factory=list)
    servers: List[str] = field(default_factory=list)
    output_node: str = "9"
    seeded: bool = True


def test_read_nodes_created_then_reloaded(tmp_path):
    render = nuke.createNode("ComfyRender")
    render.setXYpos(100, 200)
    seqs = [Seq(0, 11, "/o/v01/x.%04d.png", 1001, 1012, [1001], ["gpu1"]),
            Seq(1, 22, "/o/v02/x.%04d.png", 1001, 1012, [], [])]
    names = sync_reads(render, seqs, {})
    assert names == {"0": read_name(render.name(), 0)}   # v02 has no frame yet: no Read
    assert names["0"] == render.name() + "_var01"
    read = nuke.toNode(names["0"])
    assert read is not None and read.Class() == "Read"
    assert read["file"].value() == "/o/v01/x.%04d.png"
    assert [read[k].value() for k in ("first", "last", "origfirst", "origlast")] == [1001, 1012, 1001, 1012]
    assert read["on_error"].value() == "checkerboard"
    assert "seed 11" in read["label"].value() and "gpu1" in read["label"].value()
    assert read.xpos() > render.xpos() and read.ypos() == render.ypos()

    done = [Seq(0, 11, "/o/v01/x.%04d.png", 1001, 1012, list(range(1001, 1013)), ["gpu1", "gpu2"]),
            Seq(1, 22, "/o/v02/x.%04d.png", 1001, 1012, [1005], ["gpu3"])]
    names = sync_reads(render, done, names)
    assert len(nuke.allNodes("Read")) == 2
    assert read["on_error"].value() == "error"            # complete: errors are real again
    assert read._reloads == 1
    v2 = nuke.toNode(names["1"])
    assert v2 is not None and v2.xpos() != read.xpos()


def test_frames_saved_in_another_format_get_a_read_of_their_own() -> None:
    """A server without the float saver when its job was sent returns 8-bit PNG beside the EXR
    sequence (core/mixed_formats.py): one Read for both would point at one pattern and hide the other's frames."""
    render = nuke.createNode("ComfyRender")
    exr = Seq(0, 11, "/o/v01/x.%04d.exr", 1, 4, [1, 3], ["gpu1"])
    png = Seq(0, 11, "/o/v01/x.%04d.png", 1, 4, [2, 4], ["gpu3"])
    names = sync_reads(render, [png, exr], {})
    assert names == {"0": f"{render.name()}_var01", "0#png": f"{render.name()}_var01_png"}
    assert nuke.toNode(names["0"])["file"].value() == "/o/v01/x.%04d.exr"
    assert nuke.toNode(names["0#png"])["file"].value() == "/o/v01/x.%04d.png"
    assert sync_reads(render, [png, exr], names) == names and len(nuke.allNodes("Read")) == 2  # stable on refresh


def test_a_read_of_a_seedless_workflow_names_its_servers_only() -> None:
    """An invert or a depth pass has no seed input: its Read's label said "seed 0" (nobody's seed)."""
    assert label_for(Seq(0, 0, "/o/x.%04d.exr", 1, 2, [1], ["gpu1"], seeded=False)) == "gpu1"
    assert label_for(Seq(0, 11, "/o/x.%04d.exr", 1, 2, [1], ["gpu1"])) == "seed 11\ngpu1"
