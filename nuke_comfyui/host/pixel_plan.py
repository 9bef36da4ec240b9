"""The node's pixel knobs fitted to the farm and the script's colour config, before any frame is written.

Render reads the three knobs (plate encoding, plate file, result file), asks core to fit them to
the servers this render may use (core/pixels/decide.py: the plate goes as EXR only when every one
of them loads EXR, SaveImage becomes a float saver only when every one of them has it) and
resolves the script's colour names (host/colour.py). The outcome:

- `settings` for the plate writer (host/plate_chain.py);
- `request(...)`: the `RenderRequest.pixels` the scheduler and every server see, with the notes
  (what was lost where, colour spaces assumed, pixels the plate clipped);
- `read_colours()`: what the node stores so each result Read inverts the plate's transform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import nuke

from nuke_comfyui.core.pixels import PixelRequest, PlateEncoding, PlateFormat, ResultFormat, ServerImages, decide
from nuke_comfyui.core.pixels.colour_names import ColourNames
from nuke_comfyui.core.pixels.decide import PixelDecision
from nuke_comfyui.core.pixels.savers import ResultColour, exr_color_space, save_image_nodes
from nuke_comfyui.core.pool.image_caps import usable_image_capabilities, wait_for_first_answers
from nuke_comfyui.host.plate_chain import PlateSettings

ENCODING = "plate_encoding"
PLATE_FILE = "plate_file"
RESULT_FILE = "result_file"
NOTES = "pixel_notes"
KNOBS = (ENCODING, PLATE_FILE, RESULT_FILE, NOTES)
ENCODINGS = {"sRGB": PlateEncoding.SRGB, "log": PlateEncoding.LOG, "linear / data": PlateEncoding.LINEAR}
#: auto sends 32-bit float: a real ComfyUI 0.33 loads it exactly, where half is dithered and clamped
PLATE_FILES = {"auto": PlateFormat.EXR_FLOAT, "half EXR": PlateFormat.EXR_HALF, "float EXR": PlateFormat.EXR_FLOAT,
               "8-bit PNG": PlateFormat.PNG8}
FIRST_ANSWERS_WAIT_S = 5.0  # as long as Render waits for the farm's first /object_info answers
RESULT_FILES = {"auto": ResultFormat.AUTO, "32-bit EXR": ResultFormat.EXR, "16-bit PNG": ResultFormat.PNG16,
                "as the workflow saves": ResultFormat.PNG}


def _choice(node: nuke.Node, knob: str, table: Dict[str, Any], default: Any) -> Any:
    """The knob's choice; a node made before these knobs existed keeps the old behaviour."""
    if knob not in node.knobs():
        return default
    return table.get(str(node[knob].value()), default)


@dataclass
class NodePixels:
    """One render's pixel plan on the Nuke side."""

    encoding: PlateEncoding
    decision: PixelDecision
    names: ColourNames
    workflow: Dict[str, Any]
    notes: List[str] = field(default_factory=list)
    width: Optional[int] = None
    srgb_assumed: bool = False

    @property
    def settings(self) -> PlateSettings:
        return PlateSettings(self.encoding, self.decision.plate, self.names.for_plate(self.encoding),
                             self.names.working)

    def results(self) -> str:
        save = self.decision.save
        if save is None:
            return ResultFormat.PNG.value
        return ResultFormat.EXR.value if save.format == "exr" else ResultFormat.PNG16.value

    def request(self, clipped: int, frames: int) -> Dict[str, Any]:
        """`RenderRequest.pixels`, with every note, the clipped pixels first."""
        notes = list(self.notes)
        if clipped:
            what = ("sent as they are in the float EXR; a model made for [0, 1] may clip them"
                    if self.decision.plate.is_float else "clipped by the 8-bit PNG")
            notes.insert(0, f"{clipped:,} plate pixels outside [0, 1] over {frames} frame"
                            f"{'s' if frames != 1 else ''} ({self.encoding.label} plate): {what}")
        return PixelRequest(self.encoding.value, self.decision.plate.value, self.results(), notes,
                            self.width, self.srgb_assumed).to_dict()

    def read_colours(self) -> Dict[str, Any]:
        """What the node keeps for its result Reads: the encoding, each meaning's colour space (None:
        raw), and each output node's EXR `input_color_space`."""
        colours = {meaning.value: self.names.for_result(meaning).name for meaning in ResultColour}
        spaces = {node_id: exr_color_space(node, self.decision.save) for node_id, node in self.workflow.items()}
        return {"encoding": self.encoding.value, "colours": colours,
                "exr_spaces": {k: v for k, v in spaces.items() if v is not None}}


def node_pixels(node: nuke.Node, pool: Any, servers: Optional[Sequence[str]], workflow: Optional[Dict[str, Any]],
                names: ColourNames) -> NodePixels:
    """Fit the node's pixel knobs to the servers this render may use (`servers`: the subset, None: all).

    The plate's width is input 1's (some servers load float images only at widths that are a
    multiple of 32)."""
    encoding = _choice(node, ENCODING, ENCODINGS, PlateEncoding.SRGB)
    plate = _choice(node, PLATE_FILE, PLATE_FILES, PlateFormat.PNG8)
    results = _choice(node, RESULT_FILE, RESULT_FILES, ResultFormat.PNG)
    wait_for_first_answers(pool, FIRST_ANSWERS_WAIT_S)
    caps = usable_image_capabilities(pool, servers)
    upstream = node.input(0)
    width = int(upstream.width()) if upstream is not None else None
    assumed = encoding is PlateEncoding.SRGB and bool(names.srgb.note)
    decision = decide(encoding=encoding, plate=plate, results=results,
                      servers=[ServerImages(name, c) for name, c in caps.items()],
                      saves_with_save_image=bool(save_image_nodes(workflow or {})), plate_width=width,
                      srgb_assumed=assumed)
    plate_note = names.for_plate(encoding).note
    notes = [*decision.losses, *([plate_note] if plate_note else [])]
    if decision.save is not None and decision.save.decodes_srgb:
        back = names.for_result(ResultColour.LINEAR_REC709)
        if back.note and back.note not in notes:
            notes.append(back.note)
    return NodePixels(encoding, decision, names, dict(workflow or {}), notes, width, assumed)


def show_notes(node: nuke.Node, pixels: Dict[str, Any]) -> None:
    """The plate and result files and every note, on the node's pixels line."""
    if NOTES not in node.knobs():
        return
    request = PixelRequest.from_dict(pixels)
    head = f"plate: {request.plate_format.label}, {request.plate_encoding.label}; results: " + {
        "exr": "32-bit float EXR", "png16": "16-bit PNG"}.get(request.results, "as the workflow saves")
    node[NOTES].setValue("\n".join([head, *request.notes]))
