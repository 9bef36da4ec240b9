"""The fake nuke is only useful if it matches the real API: every public name must exist in types-nuke,
and each modelled behaviour names the Foundry documentation or public source it follows."""

from __future__ import annotations

import ast
import inspect
import threading
from pathlib import Path
from typing import Dict, Set

import nuke
import pytest

STUBS = Path(__import__("mypy").__file__).parents[1] / "nuke-stubs"


def _stub_names() -> Dict[str, Set[str]]:
    """Top-level names of nuke-stubs and, for classes, their methods (bases folded in)."""
    names: Dict[str, Set[str]] = {}
    bases: Dict[str, list] = {}
    for pyi in STUBS.glob("*.pyi"):
        tree = ast.parse(pyi.read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                names[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
                names[node.name] |= {n.target.id for n in node.body
                                     if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
                bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
            elif isinstance(node, ast.FunctionDef):
                names.setdefault(node.name, set())
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.setdefault(node.target.id, set())
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.setdefault(target.id, set())

    def all_methods(cls: str) -> Set[str]:
        found = set(names.get(cls, set()))
        for base in bases.get(cls, []):
            found |= all_methods(base)
        return found

    return {name: all_methods(name) if name in bases else members for name, members in names.items()}


def _own(obj: object) -> bool:
    """Defined by the fake itself (its package or a submodule), not imported from elsewhere."""
    module = getattr(obj, "__module__", nuke.__name__) or ""
    return module == "nuke" or module.startswith("nuke.")


def test_stubs_are_installed():
    assert (STUBS / "_nuke.pyi").is_file()


def test_every_public_name_of_the_fake_exists_in_the_stubs():
    stubs = _stub_names()
    public = [n for n in vars(nuke) if not n.startswith("_") and n not in ("annotations",)]
    modules = {n for n in public if inspect.ismodule(getattr(nuke, n))}
    own = [n for n in public if _own(getattr(nuke, n))]
    missing = [n for n in own if n not in modules and n not in stubs]
    assert not missing, f"fake nuke has names the real API lacks: {missing}"


def test_every_public_method_of_fake_classes_exists_in_the_stubs():
    stubs = _stub_names()
    wrong = []
    for cls_name, cls in vars(nuke).items():
        if cls_name.startswith("_") or not inspect.isclass(cls) or not _own(cls):
            continue
        for attr in vars(cls):
            if not attr.startswith("_") and attr not in stubs[cls_name]:
                wrong.append(f"{cls_name}.{attr}")
    assert not wrong, f"fake methods missing from the real API: {wrong}"


def test_unknown_attributes_raise():
    node = nuke.nodes.Read()
    with pytest.raises(AttributeError):
        node.setFilename("x")  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        nuke.createNodes  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(NameError):
        node["no_such_knob"]


def test_knobs_hold_real_values():
    read = nuke.nodes.Read(file="/x/a.%04d.png", first=3)
    assert read["file"].value() == "/x/a.%04d.png"
    assert read["first"].value() == 3
    read["on_error"].setValue("checkerboard")
    assert read["on_error"].value() == "checkerboard"
    assert read["on_error"].getValue() == 2.0
    with pytest.raises(ValueError):
        read["on_error"].setValue("purple")


def test_execute_writes_frames(tmp_path):
    constant = nuke.nodes.Constant()
    write = nuke.nodes.Write(file=str(tmp_path / "out" / "f.####.png"), create_directories=True)
    write.setInput(0, constant)
    nuke.execute(write, 5, 7)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f.0005.png", "f.0006.png", "f.0007.png"]


def test_node_calls_off_the_main_thread_raise():
    node = nuke.nodes.Read()
    errors = []

    def worker():
        try:
            node.name()
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert errors


def test_execute_in_main_thread_rules():
    with pytest.raises(RuntimeError):
        nuke.executeInMainThread(print, ("x",))
    seen = []
    def worker():
        nuke.executeInMainThread(lambda: seen.append(threading.current_thread()))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == []
    assert nuke._fake_pump() == 1
    assert seen == [threading.main_thread()]
