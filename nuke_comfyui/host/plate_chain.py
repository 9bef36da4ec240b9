"""The temporary nodes that turn an input into a plate file, and count what the plate clips.

Beside the Comfy node (never inside the gizmo): [Invert on alpha] -> [OCIOColorSpace from the
working space to the encoding's space] -> Write (raw, so the one conversion above is the only
one; EXR half or float, or 8-bit PNG). The plate's numbers are what the model gets, and ComfyUI
clamps them to [0, 1] (an 8-bit PNG cannot hold more; PyAV's EXR loading clamps above 1.0), so
a second branch counts, with Nuke's own nodes, the pixels that leave [0, 1] in any of r, g, b: an
Expression flags them (1 or 0 in red) and a CurveTool's "Avg Intensities" over the whole frame
gives the flagged fraction, times width x height. That count goes on the node and in the
render's notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import nuke

from nuke_comfyui.core.pixels.choices import PlateEncoding, PlateFormat
from nuke_comfyui.core.pixels.colour_names import ColourChoice

CLIP_EXPRESSION = "r<0 || r>1 || g<0 || g>1 || b<0 || b>1"
EXR_COMPRESSION = "Zip (1 scanline)"  # lossless and fast to decode on the server


@dataclass(frozen=True)
class PlateSettings:
    """How one render's plates are written: encoding, file format and the colour to convert to."""

    encoding: PlateEncoding = PlateEncoding.SRGB
    format: PlateFormat = PlateFormat.PNG8
    colour: ColourChoice = field(default_factory=lambda: ColourChoice(None))
    working: str = ""
    count_clipped: bool = True

    @property
    def extension(self) -> str:
        return ".exr" if self.format.is_float else ".png"


def srgb_png() -> PlateSettings:
    """The plate as before float plates: 8-bit PNG in the script's sRGB texture space."""
    from nuke_comfyui.host.colour import script_colour_names

    names = script_colour_names()
    return PlateSettings(PlateEncoding.SRGB, PlateFormat.PNG8, names.srgb, names.working)


@dataclass
class PlateChain:
    """The nodes made for one input, deleted after the frames are written."""

    write: nuke.Node
    counter: Optional[nuke.Node]
    helpers: List[nuke.Node]
    size: Tuple[int, int]


def _write_knobs(write: nuke.Node, settings: PlateSettings, alpha: bool) -> None:
    write["channels"].setValue("rgba" if alpha else "rgb")
    write["raw"].setValue(True)
    if settings.format.is_float:
        write["datatype"].setValue("32 bit float" if settings.format is PlateFormat.EXR_FLOAT else "16 bit half")
        write["compression"].setValue(EXR_COMPRESSION)
    else:
        write["datatype"].setValue("8 bit")


def build(upstream: nuke.Node, pattern: str, settings: PlateSettings, *, alpha: bool,
          invert_alpha: bool) -> PlateChain:
    """Create the chain under the current group (the caller is `with beside(node)`)."""
    helpers: List[nuke.Node] = []
    size = (int(upstream.width()), int(upstream.height()))
    if invert_alpha:
        invert = nuke.nodes.Invert()
        invert["channels"].setValue("alpha")
        invert.setInput(0, upstream)
        helpers.append(invert)
        upstream = invert
    if settings.colour.name is not None and settings.colour.name != settings.working:
        convert = nuke.nodes.OCIOColorSpace()
        helpers.append(convert)
        convert["in_colorspace"].setValue(settings.working)
        convert["out_colorspace"].setValue(settings.colour.name)
        convert.setInput(0, upstream)
        upstream = convert
    write = nuke.nodes.Write(file=pattern, file_type="exr" if settings.format.is_float else "png",
                             create_directories=True)
    helpers.append(write)
    _write_knobs(write, settings, alpha or invert_alpha)
    write.setInput(0, upstream)
    counter: Optional[nuke.Node] = None
    if settings.count_clipped:
        flag = nuke.nodes.Expression()
        helpers.append(flag)
        flag["expr0"].setValue(CLIP_EXPRESSION)
        flag.setInput(0, upstream)
        counter = nuke.nodes.CurveTool()
        helpers.append(counter)
        counter["operation"].setValue("Avg Intensities")
        counter["ROI"].setValue([0, 0, size[0], size[1]])
        counter.setInput(0, flag)
    return PlateChain(write=write, counter=counter, helpers=helpers, size=size)


def clipped_pixels(chain: PlateChain, first: int, last: int) -> int:
    """Run the counter over frames first..last (after the Write) and sum the clipped pixels."""
    if chain.counter is None:
        return 0
    nuke.execute(chain.counter, first, last, 1)
    width, height = chain.size
    data = chain.counter["intensitydata"]
    return sum(round(float(data.getValueAt(frame)[0]) * width * height) for frame in range(first, last + 1))


def delete(chain: PlateChain) -> None:
    for helper in reversed(chain.helpers):
        nuke.delete(helper)
