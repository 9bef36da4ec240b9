"""Seams: shared frames kept aside per chunk, blended exactly once when every chunk holding them is in."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest

from nuke_comfyui.core.chunk_plan import ChunkPlan
from nuke_comfyui.core.seams import NoBlender, SeamBlendError, SeamFinisher, staged_path, stems_in

STEM, EXT = "shot_v01", ".png"


class RecordingBlender:
    """Writes the sources and weights it was given (the pixel work is nuke_comfyui/blend's)."""

    def __init__(self) -> None:
        self.calls: List[Tuple[Tuple[str, float], ...]] = []
        self.lock = threading.Lock()

    def check(self) -> None:
        pass

    def blend(self, sources: Sequence[Tuple[str, float]], target: str) -> None:
        with self.lock:
            self.calls.append(tuple((Path(p).name, round(w, 6)) for p, w in sources))
        Path(target).write_text(repr(sources))


def stage(folder: Path, frame: int, chunk: int) -> Path:
    path = staged_path(folder, STEM, frame, chunk, EXT)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"render of {frame} by chunk {chunk}")
    return path


def test_a_shared_frame_is_blended_once_its_last_chunk_is_in(tmp_path: Path) -> None:
    blender = RecordingBlender()
    seams = SeamFinisher(ChunkPlan(range(1, 21), 8, 2), blender)
    for frame in (7, 8):
        stage(tmp_path, frame, 0)
    assert seams.after_chunk(tmp_path, [(STEM, EXT)], 0) == []  # chunk 1 not in yet
    for frame in (7, 8, 13, 14):
        stage(tmp_path, frame, 1)
    made = seams.after_chunk(tmp_path, [(STEM, EXT)], 1)
    assert [Path(p).name for p in made] == ["shot_v01.0007.png", "shot_v01.0008.png"]
    assert blender.calls == [(("shot_v01.0007.c0000.png", 0.666667), ("shot_v01.0007.c0001.png", 0.333333)),
                             (("shot_v01.0008.c0000.png", 0.333333), ("shot_v01.0008.c0001.png", 0.666667))]
    assert sorted(p.name for p in (tmp_path / ".seams").iterdir()) == ["shot_v01.0013.c0001.png",
                                                                       "shot_v01.0014.c0001.png"]
    assert stems_in(tmp_path) == [(STEM, EXT)]
    assert seams.pending(tmp_path, [(STEM, EXT)]) == [13, 14]
    assert seams.finish_ready(tmp_path, [(STEM, EXT)]) == []  # idempotent: 7, 8 are made, 13, 14 wait


def test_two_chunks_finishing_together_blend_each_frame_exactly_once(tmp_path: Path) -> None:
    for attempt in range(30):
        folder = tmp_path / str(attempt)
        blender = RecordingBlender()
        seams = SeamFinisher(ChunkPlan(range(1, 21), 8, 2), blender)
        start = threading.Barrier(2)

        def chunk_lands(index: int, frames: Tuple[int, ...], folder: Path = folder, seams: SeamFinisher = seams,
                        start: threading.Barrier = start) -> None:
            start.wait()
            for frame in frames:
                stage(folder, frame, index)
            seams.after_chunk(folder, [(STEM, EXT)], index)

        threads = [threading.Thread(target=chunk_lands, args=(0, (7, 8))),
                   threading.Thread(target=chunk_lands, args=(1, (7, 8, 13, 14)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(call[0][0] for call in blender.calls) == ["shot_v01.0007.c0000.png", "shot_v01.0008.c0000.png"]


def test_a_process_without_a_blender_refuses_a_crossfade_but_not_a_cut(tmp_path: Path) -> None:
    with pytest.raises(SeamBlendError, match=r"no seam blender; .* or choose seam 'cut'"):
        SeamFinisher(ChunkPlan(range(1, 21), 8, 2), NoBlender()).check()
    SeamFinisher(ChunkPlan(range(1, 21), 8, 2, seam="cut"), NoBlender()).check()
    SeamFinisher(ChunkPlan(range(1, 21), 8, 0), NoBlender()).check()


def test_a_missing_pixel_library_is_named_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from nuke_comfyui.blend import PixelBlender

    real = importlib.import_module

    def without_numpy(name: str, package: object = None) -> object:
        if name.split(".", maxsplit=1)[0] == "numpy":
            raise ImportError("No module named 'numpy'")  # what a Nuke Python without numpy answers
        return real(name, package)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", without_numpy)
    with pytest.raises(SeamBlendError, match=r"needs the Python package numpy, which this Python lacks; "
                                             r"pip install 'nuke-comfyui\[blend\]'"):
        PixelBlender().check()


def test_a_chunk_rendered_again_after_its_seam_was_made_still_delivers_that_frame(tmp_path: Path) -> None:
    """CI (kill -9 mid-render, then resume): chunk 1 was collected and its seam with chunk 0 blended,
    but the process died before the journal recorded chunk 1. Resume sent chunk 1 again; its shared
    frame was already made (and chunk 0's render aside was gone), so the chunk reported nothing for
    it, and the resumed render ended "completed" with that frame missing from its sequence."""
    blender = RecordingBlender()
    plan = ChunkPlan(range(1, 14), 4, 1)  # chunks 1-4, 4-7, 7-10, 10-13
    stage(tmp_path, 4, 0)
    assert SeamFinisher(plan, blender).after_chunk(tmp_path, [(STEM, EXT)], 0) == []
    stage(tmp_path, 4, 1)
    stage(tmp_path, 7, 1)
    first = SeamFinisher(plan, blender).after_chunk(tmp_path, [(STEM, EXT)], 1)
    assert [Path(p).name for p in first] == ["shot_v01.0004.png"]  # ... and then the process is killed
    resumed = SeamFinisher(plan, blender)  # a new process: chunk 1 is rendered and collected again
    again = stage(tmp_path, 4, 1)
    stage(tmp_path, 7, 1)
    assert [Path(p).name for p in resumed.after_chunk(tmp_path, [(STEM, EXT)], 1)] == ["shot_v01.0004.png"]
    assert len(blender.calls) == 1 and not again.exists()  # not blended twice; its render aside is tidied
    assert staged_path(tmp_path, STEM, 7, 1, EXT).exists()  # frame 7 still waits for chunk 2
