"""Where the bundled example workflows are: in the installed package, or in a checkout's `examples/`.

Why: `demo` (and the benchmark) render the examples, and a user who ran `pip install nuke-comfyui`
has no checkout. The wheel carries them as package data (`nuke_comfyui/examples/`, copied there
from the checkout's `examples/` when the wheel is built: setup.py); from a checkout (or an
editable install) they are read where they are written.
"""

from __future__ import annotations

from pathlib import Path

from nuke_comfyui.core.errors import WorkflowError

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "examples"  # in an installed wheel
CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "examples"  # in a checkout


def example_path(name: str) -> Path:
    """Where the example workflow `name` is (package data first), without checking it exists."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_file() else CHECKOUT_DIR / name


def example_workflow(name: str) -> Path:
    """The example workflow `name` (e.g. "img2img.json"); WorkflowError when it is missing."""
    path = example_path(name)
    if not path.is_file():
        raise WorkflowError(f"the example workflow {name} is missing (looked in {PACKAGE_DIR} and {CHECKOUT_DIR}); "
                            "reinstall nuke-comfyui")
    return path
