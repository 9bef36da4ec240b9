"""Only what pyproject.toml cannot say: the wheel carries the checkout's `examples/` as package data.

The example workflows live at the top of the checkout (where README, docs and tests point), and
`nuke-comfyui demo` must find them in an installed wheel too: they are copied into
`nuke_comfyui/examples/` of the build (read by nuke_comfyui/core/examples.py). Everything else is
in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXAMPLES = Path(__file__).resolve().parent / "examples"


class BuildWithExamples(build_py):
    """build_py, plus the example workflows as `nuke_comfyui/examples/*.json`."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "nuke_comfyui" / "examples"
        target.mkdir(parents=True, exist_ok=True)
        for source in [*sorted(EXAMPLES.glob("*.json")), EXAMPLES / "README.md"]:
            if source.is_file():
                shutil.copy2(source, target / source.name)


setup(cmdclass={"build_py": BuildWithExamples})
