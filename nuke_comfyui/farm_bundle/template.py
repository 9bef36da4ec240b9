"""A render request as an Open Job Description job template (jobtemplate-2023-09), kept as data.

One step, "Render". With frames, its one task parameter `Frame` is a CHUNK[INT] over the
`Frames` job parameter (the TASK_CHUNKING extension, which AWS Deadline Cloud and openjd-cli
run): the farm manager cuts the frames into chunks of `ChunkSize` and each task gets its chunk
as a range expression. Variations are split too when a task holds fewer than all of them (by
default a variation-only render gets one task per variation): a second task parameter,
`Variation`, gives each task its first variation (OpenJD allows only one CHUNK[INT] per step).

Every task runs `nuke-comfyui render` with the whole group's arguments plus `--group-id` (fixed
here, so every task writes into the same group folder with the names a local render would use)
and `--task-frames` (its chunk). Seeds are a function of (strategy, base seed, variation), and a
task runs the local render's jobs that start in its chunk (farm_bundle/task_plan.py), so the
tasks together render exactly what the local render would have rendered.

Layouts: "thin" workers find their server configuration the usual way (environment or settings
file); "gpu" workers each talk to the ComfyUI beside them, at 127.0.0.1:{{Param.ComfyPort}}.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from nuke_comfyui.core.render_request import RenderRequest, RequestError
from nuke_comfyui.core.seeds import MAX_SEED, MAX_VARIATIONS, SEED_STRATEGIES
from nuke_comfyui.farm_bundle import chunk_tasks
from nuke_comfyui.farm_bundle.colour import is_builtin_config
from nuke_comfyui.farm_bundle.frame_ranges import to_openjd
from nuke_comfyui.farm_bundle.scheduling import Scheduling

SPECIFICATION = "jobtemplate-2023-09"
LAYOUTS = ("thin", "gpu")
MAX_CHUNK = 150  # the largest defaultTaskCount AWS Deadline Cloud accepts for a CHUNK[INT] parameter
STEP_NAME = "Render"
TASK_PARAM = "Frame"
VARIATION_PARAM = "Variation"  # a task's first variation (1-based, as v01) when variations are split
RULES_FILE = "{{Session.PathMappingRulesFile}}"  # the session's path-mapping rules (`{}` when there are none)
CANCEL_NOTICE_S = 30


@dataclass
class BundleOptions:
    """How the bundle runs on the farm (everything that is not the render request itself)."""

    layout: str = "thin"
    frames_per_task: Optional[int] = None  # default: the request's chunk size
    command: str = "nuke-comfyui"  # the worker's nuke-comfyui executable (a name on PATH or a path)
    config: Optional[str] = None  # a settings file the workers can read (thin layout)
    comfy_port: int = 8188  # gpu layout: the port of each worker's own ComfyUI
    group_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    job_name: str = ""
    extra_render_args: List[str] = field(default_factory=list)  # further `render` options, passed as given
    values_file: Optional[str] = None  # the workflow input values (render --values), a job parameter
    variations_per_task: Optional[int] = None  # default: 1 without frames, every variation with frames
    ocio_config: Optional[str] = None  # the script's OCIO config: a job parameter and the tasks' $OCIO
    scheduling: Scheduling = field(default_factory=Scheduling)  # deadline: priority, retries, initial state

    def validate(self, request: RenderRequest) -> None:
        self.scheduling.validate()
        if self.variations_per_task is not None and not 1 <= self.variations_per_task <= MAX_VARIATIONS:
            raise RequestError(f"variations per task must be between 1 and {MAX_VARIATIONS}, "
                               f"not {self.variations_per_task}")
        if self.layout not in LAYOUTS:
            raise RequestError(f"layout {self.layout!r} is unknown; use one of {', '.join(LAYOUTS)}")
        per_task = self.task_size(request)
        if not 1 <= per_task <= MAX_CHUNK:
            raise RequestError(f"frames per task must be between 1 and {MAX_CHUNK}, not {per_task}")
        if not 1 <= self.comfy_port <= 65535:
            raise RequestError(f"ComfyUI port {self.comfy_port} must be between 1 and 65535")
        if not self.command.strip():
            raise RequestError("the nuke-comfyui command for the workers is empty; give its name or path")

    def task_size(self, request: RenderRequest) -> int:
        """Frames per task, or for a frame-batch render whole chunks per task (chunk_tasks.py)."""
        if chunk_tasks.chunk_starts(request) is not None:
            return chunk_tasks.chunks_per_task(request, self.frames_per_task)
        return self.frames_per_task if self.frames_per_task is not None else request.chunk_size

    def variations_in_task(self, request: RenderRequest) -> int:
        """Variations one task renders: a variation-only render gets a task per variation by default
        (each is a whole ComfyUI job); with frames, the frame chunks already spread the work."""
        if self.variations_per_task is not None:
            return min(self.variations_per_task, request.variations)
        return 1 if not request.frames else request.variations

    def splits_variations(self, request: RenderRequest) -> bool:
        return self.variations_in_task(request) < request.variations


Parameter = Tuple[Dict[str, Any], Any]  # (definition, value written to parameter_values.yaml)


NO_BASE_SEED = -1  # `render --base-seed -1`: no base seed (OpenJD INT parameters cannot be empty)


def _param(name: str, kind: str, value: Any, description: str, **extra: Any) -> Parameter:
    """One job parameter. Its value goes to parameter_values.yaml; non-path values are also the
    template's default (OpenJD allows only relative defaults for PATH parameters)."""
    entry: Dict[str, Any] = {"name": name, "type": kind}
    entry.update(extra)
    entry["description"] = description
    if kind != "PATH":
        entry["default"] = value
    return entry, value


def _label(text: str) -> Dict[str, Any]:
    return {"label": text, "groupLabel": "ComfyUI render"}


def job_parameters(request: RenderRequest, options: BundleOptions) -> List[Parameter]:
    """The job parameters (what a wrangler may change when submitting) with this request's values."""
    params = [
        _param("Workflow", "PATH", request.workflow_path, "ComfyUI workflow in API format (JSON).",
               objectType="FILE", dataFlow="IN",
               userInterface={"control": "CHOOSE_INPUT_FILE", **_label("Workflow"),
                              "fileFilters": [{"label": "ComfyUI API workflow", "patterns": ["*.json"]}]}),
        _param("OutputDir", "PATH", request.output_dir,
               "Folder the results are written into (the group folder is created inside it).",
               objectType="DIRECTORY", dataFlow="OUT",
               userInterface={"control": "CHOOSE_DIRECTORY", **_label("Output folder")}),
    ]
    if request.input_pattern:
        # NONE: a pattern is not one file to transfer; the frames are listed in asset_references.yaml
        # when they are not on shared storage. As a PATH the farm's path-mapping rules still apply.
        params.append(_param("InputPattern", "PATH", request.input_pattern,
                             "Input frames, e.g. /plates/a.####.png (readable by every worker).",
                             objectType="FILE", dataFlow="NONE", userInterface=_label("Input frames")))
    if options.values_file:
        params.append(_param("InputValues", "PATH", options.values_file,
                             "The workflow input values of the render (the Nuke node's Workflow tab), JSON.",
                             objectType="FILE", dataFlow="IN",
                             userInterface={"control": "CHOOSE_INPUT_FILE", **_label("Input values"),
                                            "fileFilters": [{"label": "Input values", "patterns": ["*.json"]}]}))
    if options.config and options.layout == "thin":
        params.append(_param("ServerConfig", "PATH", options.config,
                             "The nuke-comfyui server settings file the workers read (secrets as ${VAR}).",
                             objectType="FILE", dataFlow="IN",
                             userInterface={"control": "CHOOSE_INPUT_FILE", **_label("Server settings"),
                                            "fileFilters": [{"label": "Settings", "patterns": ["*.json"]}]}))
    if options.ocio_config and not is_builtin_config(options.ocio_config):
        params.append(_param("OcioConfig", "PATH", options.ocio_config,
                             "The OCIO config of the Nuke script; tasks run with OCIO set to it.",
                             objectType="FILE", dataFlow="IN",
                             userInterface={"control": "CHOOSE_INPUT_FILE", **_label("OCIO config"),
                                            "fileFilters": [{"label": "OCIO config", "patterns": ["*.ocio"]}]}))
    if request.frames:
        params.append(_param("Frames", "STRING", to_openjd(request.frames),
                             "Frames to render, as a range expression: 1001-1100, 1-99:2, 1,5,10-20.",
                             minLength=1, userInterface={"control": "LINE_EDIT", **_label("Frames")}))
        starts = chunk_tasks.chunk_starts(request)
        if starts is None:
            params.append(_param("ChunkSize", "INT", options.task_size(request),
                                 "Frames per farm task (the farm manager may balance chunks).",
                                 minValue=1, maxValue=MAX_CHUNK,
                                 userInterface={"control": "SPIN_BOX", **_label("Frames per task")}))
        else:
            params.append(_param("ChunkStarts", "STRING", starts,
                                 "First frames of the render's chunks (frame batches): the tasks range over these. "
                                 "Written with Frames; make a new bundle to change either.",
                                 minLength=1, userInterface={"control": "HIDDEN"}))
            params.append(_param("ChunkSize", "INT", options.task_size(request),
                                 f"Chunks of {request.chunk_size} frames per farm task (whole chunks only).",
                                 minValue=1, maxValue=MAX_CHUNK,
                                 userInterface={"control": "SPIN_BOX", **_label("Chunks per task")}))
    params += [
        _param("Variations", "INT", request.variations, "Number of seed variations.",
               minValue=1, maxValue=MAX_VARIATIONS, userInterface={"control": "SPIN_BOX", **_label("Variations")}),
        *([_param("VariationsPerTask", "INT", options.variations_in_task(request),
                  "Seed variations per farm task.", minValue=1, maxValue=MAX_VARIATIONS,
                  userInterface={"control": "SPIN_BOX", **_label("Variations per task")})]
          if options.splits_variations(request) else []),
        _param("SeedStrategy", "STRING", request.seed_strategy, "How variation seeds follow from the base seed.",
               allowedValues=list(SEED_STRATEGIES),
               userInterface={"control": "DROPDOWN_LIST", **_label("Seed strategy")}),
        _param("BaseSeed", "INT", NO_BASE_SEED if request.base_seed is None else request.base_seed,
               f"Base seed of the variations; {NO_BASE_SEED}: none (one variation keeps the workflow's own "
               "seed; several use a base seed drawn from the group id, the same in every task).",
               minValue=NO_BASE_SEED, maxValue=MAX_SEED, userInterface={"control": "SPIN_BOX", **_label("Base seed")}),
        _param("GroupId", "STRING", options.group_id,
               "Job group id: names the result folder (<label>_<first 8>). Keep it to re-run into the same "
               "folder; a new 32-hex-digit id starts a new group.",
               minLength=32, maxLength=32, userInterface={"control": "HIDDEN"}),
        _param("NukeComfyuiCommand", "STRING", options.command,
               "The nuke-comfyui command on the workers (a name on PATH or a full path).",
               minLength=1, userInterface={"control": "HIDDEN"}),
    ]
    if options.layout == "gpu":
        params.append(_param("ComfyPort", "INT", options.comfy_port, "Port of the ComfyUI on each worker.",
                             minValue=1, maxValue=65535, userInterface={"control": "SPIN_BOX",
                                                                         **_label("Worker ComfyUI port")}))
    return params


def task_arguments(request: RenderRequest, options: BundleOptions) -> List[str]:
    """`nuke-comfyui render` arguments of one task; what is not a job parameter is written literally."""
    args = ["render", "{{Param.Workflow}}", "--output", "{{Param.OutputDir}}"]
    if request.input_pattern:
        args += ["--input", "{{Param.InputPattern}}"]
    for node_id, pattern in sorted((request.images or {}).items()):  # the node's other image inputs
        args += ["--image", f"{node_id}={pattern}"]
    if options.values_file:
        args += ["--values", "{{Param.InputValues}}"]
    if request.frames:
        args += ["--frames", "{{Param.Frames}}", "--task-frames", "{{Task.Param.Frame}}"]
    if options.splits_variations(request):
        args += ["--task-variations", f"{{{{Task.Param.{VARIATION_PARAM}}}}}",
                 "--variations-per-task", "{{Param.VariationsPerTask}}"]
    args += ["--variations", "{{Param.Variations}}", "--seed-strategy", "{{Param.SeedStrategy}}",
             "--base-seed", "{{Param.BaseSeed}}", "--group-id", "{{Param.GroupId}}",
             "--path-mapping-rules", RULES_FILE,  # paths in values, --image, --set and dir_local
             "--chunk-size", str(request.chunk_size)]
    if request.frame_batches():  # the farm's chunks must be the local render's (chunk_tasks.py)
        args += ["--overlap", str(request.overlap), "--seam", request.seam, "--chunk-seeds", request.chunk_seeds]
        if request.split_on_oom:
            args.append("--split-on-oom")
    if request.label:
        args += ["--label", request.label]
    if request.strategy:
        args += ["--strategy", request.strategy]
    if request.timeout is not None:
        args += ["--timeout", repr(float(request.timeout))]
    if options.config and options.layout == "thin":
        args += ["--config", "{{Param.ServerConfig}}"]
    from nuke_comfyui.core.pixels.choices import render_arguments

    args += render_arguments(request.pixels)  # each task fits its prompts to its servers as the request did
    return args + list(options.extra_render_args)


def local_server_variables() -> Dict[str, str]:
    """gpu layout: the worker's own ComfyUI is its whole cluster (NUKE_COMFYUI_SERVERS wins over every source)."""
    server = {"name": "local", "host": "127.0.0.1", "port": 0}
    text = json.dumps([server]).replace('"port": 0', '"port": {{Param.ComfyPort}}')
    return {"NUKE_COMFYUI_SERVERS": text}


def job_template(request: RenderRequest, options: BundleOptions) -> Dict[str, Any]:
    """The whole job template as plain data (dump it as YAML or JSON)."""
    request.validate()
    options.validate(request)
    label = request.label or _stem(request.workflow_path)
    step: Dict[str, Any] = {"name": STEP_NAME}
    task_parameters = []
    if request.frames:
        frame_range = "{{Param.ChunkStarts}}" if chunk_tasks.chunk_starts(request) else "{{Param.Frames}}"
        task_parameters.append({
            "name": TASK_PARAM, "type": "CHUNK[INT]", "range": frame_range,
            "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}", "rangeConstraint": "NONCONTIGUOUS"},
        })
    if options.splits_variations(request):  # OpenJD allows one CHUNK[INT]: each task gets its first variation
        task_parameters.append({"name": VARIATION_PARAM, "type": "INT",
                                "range": "1-{{Param.Variations}}:{{Param.VariationsPerTask}}"})
    if task_parameters:
        step["parameterSpace"] = {"taskParameterDefinitions": task_parameters}
    if options.layout == "gpu":
        step["stepEnvironments"] = [{
            "name": "WorkerComfyUI",
            "description": "Render on the ComfyUI server running beside this worker.",
            "variables": local_server_variables(),
        }]
    step["script"] = {"actions": {"onRun": {
        "command": "{{Param.NukeComfyuiCommand}}", "args": task_arguments(request, options),
        # SIGTERM (Windows: Ctrl-C) first: the task cancels its prompts on the servers, then exits.
        "cancelation": {"mode": "NOTIFY_THEN_TERMINATE", "notifyPeriodInSeconds": CANCEL_NOTICE_S},
    }}}
    template: Dict[str, Any] = {"specificationVersion": SPECIFICATION}
    if request.frames:
        template["extensions"] = ["TASK_CHUNKING"]
    template["name"] = (options.job_name or f"ComfyUI {label}")[:128]
    template["description"] = (f"nuke-comfyui render of {label} ({options.layout} workers); "
                               "each task renders its frames of one job group.")
    template["parameterDefinitions"] = [definition for definition, _ in job_parameters(request, options)]
    if options.ocio_config:  # as deadline-cloud-for-nuke: every task of the job sees the script's config
        value = options.ocio_config if is_builtin_config(options.ocio_config) else "{{Param.OcioConfig}}"
        template["jobEnvironments"] = [{"name": "ScriptOCIOConfig",
                                        "description": "The Nuke script's OCIO config, for every task.",
                                        "variables": {"OCIO": value}}]
    template["steps"] = [step]
    if chunk_tasks.needs_seams_step(request):
        template["steps"].append(chunk_tasks.seams_step(request, "{{Param.NukeComfyuiCommand}}",
                                                        task_arguments(request, options),
                                                        step.get("stepEnvironments")))
    return template


def parameter_values(request: RenderRequest, options: BundleOptions) -> Dict[str, Any]:
    """Every job parameter's value for this request, by name (parameter_values.yaml holds them)."""
    return {definition["name"]: value for definition, value in job_parameters(request, options)}


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name
