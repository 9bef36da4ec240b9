"""An output whose frames came back in two formats (a server lacked the float saver when its job
was sent): which frames, from where, and why, in one line per split."""

from __future__ import annotations

from nuke_comfyui.core.frames import frame_ranges
from nuke_comfyui.core.mixed_formats import fallback_suffixes, mixed_formats
from nuke_comfyui.core.scheduler.events import OutputSequence


def seq(pattern: str, done: list, servers: list, variation: int = 0, node: str = "9") -> OutputSequence:
    return OutputSequence(variation=variation, seed=1, output_node=node, pattern=pattern, first=1, last=8,
                          frames_done=done, servers=servers)


def test_the_smaller_format_is_named_with_its_frames_and_server() -> None:
    lines = mixed_formats([seq("/o/v.%04d.exr", [1, 3, 5, 6, 7], ["gpu1"]), seq("/o/v.%04d.png", [2, 4, 8], ["gpu3"])])
    assert lines == ["var01: frames 2,4,8 came back as PNG from gpu3, the rest as EXR (gpu3 lacked the planned "
                     "saver when the job was sent); they load as a Read of their own"]


def test_one_format_per_output_says_nothing_and_outputs_are_told_apart() -> None:
    assert mixed_formats([seq("/o/a.%04d.exr", [1, 2], ["gpu1"]), seq("/o/b.%04d.png", [1, 2], ["gpu1"], node="12"),
                          seq("/o/c.%04d.exr", [1], ["gpu1"], variation=1)]) == []
    lines = mixed_formats([seq("/o/a.%04d.exr", [1, 2, 3], ["gpu1"]), seq("/o/a.%04d.png", [4], ["gpu2"]),
                           seq("/o/b.%04d.png", [1, 2, 3, 4], ["gpu1", "gpu2"], node="12")])
    assert [line.split(":")[0] for line in lines] == ["var01 output 9"]
    # the float format is the plan's even where the fallback frames outnumber it
    (line,) = mixed_formats([seq("/o/a.%04d.png", [1, 2, 3], ["gpu2"]), seq("/o/a.%04d.exr", [4], ["gpu1"])])
    assert line.startswith("var01: frames 1-3 came back as PNG from gpu2, the rest as EXR")


def test_frame_ranges_reads_as_nuke_writes_them() -> None:
    assert frame_ranges([5, 1, 2, 3, 7, 8]) == "1-3,5,7-8" and frame_ranges([]) == ""


def test_only_the_fallback_format_gets_a_suffix_for_its_read() -> None:
    exr, png = seq("/o/v.%04d.exr", [1], ["gpu1"]), seq("/o/v.%04d.png", [2, 3], ["gpu3"])
    assert fallback_suffixes([png, exr]) == ["png", ""]
    assert fallback_suffixes([png]) == [""]
    other = seq("/o/w.%04d.png", [1], ["gpu3"], variation=1)  # another variation, one format: no suffix
    assert fallback_suffixes([exr, png, other]) == ["", "png", ""]
