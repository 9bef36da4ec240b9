"""Writing a job bundle in AWS Deadline Cloud's layout, and the command that submits it.

    DIR/template.yaml           the OpenJD job template
    DIR/parameter_values.yaml   {"parameterValues": [{"name": ..., "value": ...}, ...]}, the job
                                parameters then the `deadline:` scheduling fields (scheduling.py)
    DIR/asset_references.yaml   what job attachments carry (asset_references.py)

The files are written to a temporary name and renamed into place, so a bundle folder never
holds half a template. `openjd run DIR/template.yaml` runs the same bundle locally (the values
of the parameters without a default, PATH ones, are passed as `-p NAME=VALUE`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.farm_bundle import yaml_text
from nuke_comfyui.farm_bundle.asset_references import FILE_NAME as ASSETS_FILE

TEMPLATE_FILE = "template.yaml"
VALUES_FILE = "parameter_values.yaml"


class BundleError(NukeComfyError):
    """The bundle folder cannot be written (message says which path and why)."""


@dataclass(frozen=True)
class WrittenBundle:
    folder: Path
    template: Path
    values: Path
    without_default: Dict[str, Any]  # what `openjd run` must be given (the template has no default for it)
    assets: Optional[Path] = None  # asset_references.yaml
    notes: List[str] = field(default_factory=list)  # what the artist should know (scheduling, attachments)

    def submit_command(self) -> List[str]:
        """The AWS Deadline Cloud command that submits this bundle (farm and queue from `deadline config`)."""
        return ["deadline", "bundle", "submit", str(self.folder)]

    def local_command(self) -> List[str]:
        """openjd-cli running the whole bundle on this machine."""
        command = ["openjd", "run", str(self.template)]
        for name, value in self.without_default.items():
            command += ["-p", f"{name}={value}"]
        return command


def write_bundle(folder: str, template: Dict[str, Any], values: Dict[str, Any], *,
                 farm_values: Iterable[Dict[str, Any]] = (), assets: Optional[Dict[str, Any]] = None) -> WrittenBundle:
    """Write template.yaml and parameter_values.yaml (`values`: name -> value, then `farm_values`,
    the `deadline:` entries) into `folder`, and asset_references.yaml when `assets` is given."""
    target = Path(folder).expanduser()
    if target.exists() and not target.is_dir():
        raise BundleError(f"bundle folder {target} is a file; choose a folder for the job bundle")
    entries = [{"name": name, "value": value} for name, value in values.items()] + list(farm_values)
    try:
        target.mkdir(parents=True, exist_ok=True)
        template_path = _atomic_write(target / TEMPLATE_FILE, yaml_text.dump(template))
        values_path = _atomic_write(target / VALUES_FILE, yaml_text.dump({"parameterValues": entries}))
        assets_path = _atomic_write(target / ASSETS_FILE, yaml_text.dump(assets)) if assets is not None else None
    except OSError as exc:
        raise BundleError(f"cannot write the job bundle into {target}: {exc.strerror or exc}; "
                          "choose a folder you can write to") from None
    defaults = {p["name"] for p in template.get("parameterDefinitions", []) if "default" in p}
    return WrittenBundle(target, template_path, values_path,
                         {name: value for name, value in values.items() if name not in defaults}, assets_path)


def write_render_bundle(folder: str, request: Any, options: Any, *, shared: Iterable[str] = ()) -> WrittenBundle:
    """The whole bundle of one render: template, parameter values with the scheduling fields, and the
    asset references (`shared`: folders every worker sees, whose inputs are not attached)."""
    from nuke_comfyui.farm_bundle.asset_references import collect
    from nuke_comfyui.farm_bundle.template import job_template, parameter_values

    template = job_template(request, options)
    refs = collect(request, values_file=options.values_file,
                   config=options.config if options.layout == "thin" else None,
                   ocio_config=options.ocio_config, roots=shared)
    written = write_bundle(folder, template, parameter_values(request, options),
                           farm_values=options.scheduling.parameter_values(), assets=refs.to_data())
    written.notes.extend([f"farm job: {options.scheduling.describe()}", refs.summary()])
    if options.ocio_config:
        written.notes.append(f"colour: tasks run with OCIO={options.ocio_config}")
    return written


def check_renderable(request: Any) -> None:
    """Refuse now what every task would refuse later: a workflow that does not load, no output node,
    an input pattern or frame set that cannot be read. The disk is not checked: the plate may be
    written after the bundle, and each task checks its files before it sends anything."""
    from nuke_comfyui.core.scheduler.request_plan import plan_for_request

    plan_for_request(request, "0" * 32, check_files=False)


def deadline_executable() -> Optional[str]:
    """The `deadline` command of AWS Deadline Cloud when it is installed, else None."""
    return shutil.which("deadline")


def _atomic_write(path: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=".part-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, str(path))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
