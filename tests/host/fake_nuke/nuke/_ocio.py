"""The script's OCIO config: which config the root names, its colour-space menus, and real transforms.

Sources: Foundry's "OCIO Color Management" guide (Project Settings > Color: `colorManagement`
Nuke/OCIO, `OCIO_config` with "custom" + `customOCIOConfigPath`, the working space
`workingSpaceLUT`, the default LUTs `monitorLut`, `int8Lut`, `int16Lut`, `logLut`, `floatLut`;
"All OCIO configurations except nuke-default automatically switch this control to OCIO";
"Changing the configuration updates the default LUT settings accordingly"), Foundry's
`nuke.colorspaces.getColorspaceList` source (strips family names at the last `/` when the knob has
STRIP_CASCADE_PREFIX), and a colourspace knob's items as measured in Nuke 17 by a public test
(`name<TAB>Colorspaces/Family/name[<TAB><TAB>aliases]`, roles as `role<TAB>role (space)`).

The configs are real: nuke-default and a trimmed ACES 1.2 as test data in `../configs/` (their
headers name their sources), Nuke 15/16's fn-nuke cg-config as OpenColorIO's own built-in
`cg-config-v1.0.0_aces-v1.3_ocio-v2.1` it is built on, and any custom path (a file, or an
`ocio://` built-in such as the studio config). Transforms are OCIO's own numbers. An unknown name
set on a colourspace knob raises ValueError, as Nuke does; converting with a space whose LUT the
test data leaves out raises "not modelled".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from ._numeric import Enumeration_Knob
from ._state import main_thread_only, not_modelled

STRIP_CASCADE_PREFIX = 0x80000000  # nuke.STRIP_CASCADE_PREFIX (types-nuke lists the name)
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
#: OCIO_config menu items -> where the config comes from (None: customOCIOConfigPath)
BUILT_IN: Dict[str, Optional[str]] = {
    "nuke-default": str(CONFIGS / "nuke-default" / "config.ocio"),
    "aces_1.2": str(CONFIGS / "aces_1.2" / "config.ocio"),
    "fn-nuke_cg-config-v1.0.0_aces-v1.3_ocio-v2.1": "ocio://cg-config-v1.0.0_aces-v1.3_ocio-v2.1",
    "custom": None,
}
#: root default-LUT knobs -> roles Nuke fills them from, first found (else the nuke-default name)
LUT_ROLES = {
    "workingSpaceLUT": (("scene_linear",), "linear"),
    "monitorLut": (("color_picking",), "sRGB"),
    "int8Lut": (("matte_paint", "color_picking"), "sRGB"),
    "int16Lut": (("texture_paint", "matte_paint", "color_picking"), "sRGB"),
    "logLut": (("compositing_log",), "Cineon"),
    "floatLut": (("scene_linear",), "linear"),
}
_LOADED: Dict[str, Any] = {}


def _ocio() -> Any:
    import PyOpenColorIO

    return PyOpenColorIO


def load(source: str) -> Any:
    """The OCIO config at a path or `ocio://` URI (cached per process: configs are immutable)."""
    if source not in _LOADED:
        try:
            _LOADED[source] = _ocio().Config.CreateFromFile(source)
        except Exception as exc:
            raise RuntimeError(f"OCIO config {source!r} cannot be loaded: {exc}") from None
    return _LOADED[source]


def config_source() -> str:
    """The config the script uses now (Foundry, "OCIO Color Management"; the order deadline-cloud-for-nuke
    reads too): the OCIO environment variable wins; Nuke's own colour management uses its native
    LUTs (nuke-default's); else the root's OCIO_config, or its custom path."""
    import os

    from ._nodes import root

    environment = os.environ.get("OCIO", "").strip()
    if environment:
        return environment
    knobs = root().knobs()
    if str(knobs["colorManagement"].value()) == "Nuke":
        return str(BUILT_IN["nuke-default"])
    choice = str(knobs["OCIO_config"].value())
    source = BUILT_IN.get(choice)
    if source is None:
        source = str(knobs["customOCIOConfigPath"].value()).strip()
        if not source:
            raise RuntimeError("OCIO config 'custom' has no file set (customOCIOConfigPath is empty)")
    return source


def current() -> Any:
    return load(config_source())


def _role_items(config: Any) -> List[str]:
    return [f"{role}\t{role} ({space})" for role, space in config.getRoles()]


def menu_items(config: Any) -> List[str]:
    """A colourspace knob's values(): roles, then every space with its menu path and aliases."""
    items = _role_items(config)
    for space in config.getColorSpaces():
        name = space.getName()
        family = space.getFamily()
        path = "/".join(p for p in ["Colorspaces", *family.split("/"), name] if p)
        aliases = list(space.getAliases()) if hasattr(space, "getAliases") else []
        items.append(f"{name}\t{path}" + (f"\t\t{','.join(aliases)}" if aliases else ""))
    return items


def canonical(config: Any, value: str) -> Optional[str]:
    """The space a name, alias or role names in `config` (None when it has none of that name)."""
    if value in dict(config.getRoles()):
        value = config.getRoleColorSpace(value)
    space = config.getColorSpace(value)
    return None if space is None else str(space.getName())


def default_for(knob_name: str, config: Any) -> str:
    roles, legacy = LUT_ROLES[knob_name]
    for role in roles:
        if config.hasRole(role):
            return str(config.getRoleColorSpace(role))
    found = canonical(config, legacy)
    return found or str(next(iter(config.getColorSpaceNames())))


def apply_config_change() -> None:
    """What choosing a config does to the root: OCIO management (unless nuke-default), fresh defaults."""
    from ._nodes import root

    knobs = root().knobs()
    choice = str(knobs["OCIO_config"].value())
    knobs["colorManagement"]._value = 0 if choice == "nuke-default" else 1
    if choice == "custom" and not str(knobs["customOCIOConfigPath"].value()).strip():
        return  # applied once the path is set
    try:
        config = current()
    except RuntimeError:
        return  # Nuke reports a config it cannot load; what then needs it (menus, renders) raises
    for name in LUT_ROLES:
        knobs[name]._value = default_for(name, config)


def resolve(value: str, data_kind: str) -> Optional[str]:
    """The space a Read/Write colourspace value converts with (None: raw); "default" by file kind."""
    config = current()
    if value == "default":
        from ._nodes import root

        lut = {"int8": "int8Lut", "int16": "int16Lut", "float": "floatLut", "log": "logLut"}[data_kind]
        value = str(root()[lut].value())
        if canonical(config, value) is None:  # set under another config (e.g. $OCIO since): the active one's
            value = default_for(lut, config)
    found = canonical(config, value)
    if found is None:
        raise RuntimeError(f"colorspace {value!r} is not in the OCIO config {config_source()}")
    return found


def working_space() -> str:
    from ._nodes import root

    config = current()
    found = canonical(config, str(root()["workingSpaceLUT"].value())) or canonical(
        config, default_for("workingSpaceLUT", config))
    if found is None:
        raise RuntimeError("the working space is not in the OCIO config")
    return found


def convert(rgb: Any, source: Optional[str], target: Optional[str]) -> Any:
    """rgb (H x W x 3 float32, C-contiguous) from one space to another with OCIO's own CPU processor."""
    if source is None or target is None or source == target:
        return rgb
    ocio = _ocio()
    config = current()
    try:
        processor = config.getProcessor(source, target).getOptimizedCPUProcessor(ocio.OPTIMIZATION_NONE)
    except Exception as exc:
        raise not_modelled(f"converting {source!r} -> {target!r} in {config_source()} ({exc})") from None
    import numpy

    out = numpy.ascontiguousarray(rgb, dtype=numpy.float32).copy()
    processor.applyRGB(out)
    return out


@main_thread_only
class Colorspace_Knob(Enumeration_Knob):
    """A Read/Write `colorspace` (with "default") or a root LUT knob: items from the current config.

    The value is kept as text (a space, alias or role), since the menu changes with the config;
    a name the current config lacks raises ValueError, as Nuke refuses it.
    """

    def __init__(self, name: str, label: Optional[str] = None, with_default: bool = True) -> None:
        super().__init__(name, label, [])
        self._with_default = with_default
        self._value = "default" if with_default else ""
        self.setFlag(STRIP_CASCADE_PREFIX)

    def Class(self) -> str:
        return "Enumeration_Knob"

    def values(self) -> List[str]:
        return (["default"] if self._with_default else []) + menu_items(current())

    def numValues(self) -> int:
        return len(self.values())

    def enumName(self, n: int) -> str:
        return self.values()[n].split("\t")[0]

    def value(self) -> str:
        if not self._value and self._name in LUT_ROLES:  # a new script's default LUTs, from its config
            self._value = default_for(self._name, current())
        return str(self._value)

    def getValue(self) -> float:
        names = [v.split("\t")[0] for v in self.values()]
        return float(names.index(self.value())) if self.value() in names else 0.0

    def valueAt(self, frame: float) -> float:  # not animated: the same index at every frame
        return self.getValue()

    def getValueAt(self, frame: float) -> float:
        return self.getValue()

    def setValueAt(self, val: Any, time: float) -> bool:
        raise not_modelled(f"animating colour-space menu {self._name}")

    def setValue(self, val: Any) -> bool:
        if not isinstance(val, str):
            self._value = self.enumName(int(val))
            return True
        if not (val == "default" and self._with_default) and canonical(current(), val) is None:
            raise ValueError(f"Bad value for {self._name}: {val!r} is not a colorspace of the OCIO config "
                             f"{config_source()}")
        self._value = val
        return True

    def fromScript(self, script: str) -> None:
        self._value = script.strip("{} \"")

    def toScript(self) -> str:
        return self.value()


@main_thread_only
class ConfigChoice_Knob(Enumeration_Knob):
    """Root.OCIO_config: choosing one applies the config (see apply_config_change)."""

    def Class(self) -> str:
        return "Enumeration_Knob"

    def setValue(self, val: Any) -> bool:
        super().setValue(val)
        if self._node is not None:
            apply_config_change()
        return True


def getColorspaceList(colorspaceKnob: Any) -> List[str]:
    """Foundry's nuke.colorspaces.getColorspaceList: values(), family stripped at the last '/'."""
    values = list(colorspaceKnob.values())
    if not colorspaceKnob.getFlag(STRIP_CASCADE_PREFIX):
        return values
    return [value.split("/")[-1] for value in values]
