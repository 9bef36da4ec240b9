"""CurveTool's "Avg Intensities": the mean of each channel over a region, stored per frame.

Sources: Foundry's CurveTool reference (`operation` "Avg Intensities" analyses the average of the
`channels` inside the `ROI` box and keys the result into `intensitydata`, one key per executed
frame; run it with `nuke.execute(curveTool, first, last)`), and public pipeline code that reads it
back with `curveTool['intensitydata'].getValueAt(frame)` (four values, r g b a) and sets the box
with `curveTool['ROI'].fromDict({'x', 'y', 'r', 't'})`. Other operations are not modelled.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._knobs import Knob
from ._state import main_thread_only, not_modelled, state


@main_thread_only
class Box_Knob(Knob):
    """CurveTool.ROI: x, y, r, t in pixels from the bottom-left corner (Nuke's coordinates)."""

    _default: Any = (0.0, 0.0, 0.0, 0.0)

    def Class(self) -> str:
        return "BBox_Knob"

    def value(self) -> List[float]:
        return [float(v) for v in self._value]

    def setValue(self, val: Any) -> bool:
        values = [float(v) for v in val]
        if len(values) != 4:
            raise ValueError(f"{self._name} takes x, y, r, t, not {val!r}")
        self._value = tuple(values)
        return True

    def fromDict(self, box: Dict[str, float]) -> None:
        self.setValue([box["x"], box["y"], box["r"], box["t"]])

    def toDict(self) -> Dict[str, float]:
        return dict(zip("xyrt", self.value()))


@main_thread_only
class Intensity_Knob(Knob):
    """CurveTool.intensitydata: keyed per analysed frame; getValueAt(frame) gives r, g, b, a."""

    def __init__(self, name: str, label: Optional[str] = None) -> None:
        super().__init__(name, label)
        self._keys: Dict[float, List[float]] = {}

    def Class(self) -> str:
        return "AColor_Knob"

    def getValueAt(self, frame: float, index: Optional[int] = None) -> Any:
        values = self._keys.get(float(frame))
        if values is None:
            return [0.0, 0.0, 0.0, 0.0] if index is None else 0.0
        return list(values) if index is None else values[int(index)]

    def valueAt(self, frame: float, index: Optional[int] = None) -> Any:
        return self.getValueAt(frame, index)

    def isAnimated(self) -> bool:
        return bool(self._keys)


def execute_curve_tool(node: Any, start: int, end: int, incr: int) -> None:
    """Analyse frames start..end of the CurveTool's input into its intensitydata keys."""
    from ._execute import render_image

    if str(node["operation"].value()) != "Avg Intensities":
        raise not_modelled(f"CurveTool operation {node['operation'].value()!r}")
    state().executed.append((node.name(), int(start), int(end)))
    x, y, r, t = (round(v) for v in node["ROI"].value())
    for frame in range(int(start), int(end) + 1, int(incr)):
        image = render_image(node.input(0), frame)
        height = image.shape[0]
        region = image[max(0, height - t):max(0, height - y), max(0, x):max(0, r)]  # rows are stored top first
        if region.size == 0:
            raise RuntimeError(f"{node.name()}: the ROI {x} {y} {r} {t} holds no pixels")
        node["intensitydata"]._keys[float(frame)] = [float(region[..., i].mean(dtype="float64")) for i in range(4)]
