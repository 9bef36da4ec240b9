"""What a Deadline TD looks for in the bundle: scheduling fields, asset references, colour, task shapes.

Formats are checked against what deadline-cloud reads and writes (no network, no AWS):
- `deadline:` parameter values: deadline-cloud `src/deadline/client/job_bundle/submission.py`
  (`split_parameter_args` accepts exactly targetTaskRunStatus, priority, maxFailedTasksCount,
  maxRetriesPerTask) and the order and defaults deadline-cloud-for-nuke writes
  (`job_bundle_output_tests/frame/expected_job_bundle/parameter_values.yaml`);
- asset_references.yaml: `AssetReferences.to_dict` in the same submission.py (inputs.directories,
  inputs.filenames, outputs.directories, referencedPaths; lists sorted);
- PATH parameters reach asset references through their dataFlow/objectType
  (`job_bundle/parameters.py`, `apply_job_parameters`).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml
from openjd.model import StepParameterSpaceIterator, create_job, decode_job_template, preprocess_job_parameters

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.render_request import RenderRequest, RequestError
from nuke_comfyui.core.scheduler.request_plan import plan_for_request
from nuke_comfyui.farm_bundle.asset_references import collect, is_shared, shared_roots
from nuke_comfyui.farm_bundle.colour import search_directories
from nuke_comfyui.farm_bundle.scheduling import Scheduling
from nuke_comfyui.farm_bundle.task_plan import VariationBlock, _task_specs
from nuke_comfyui.farm_bundle.template import BundleOptions, job_template, parameter_values

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEADLINE_APP_PARAMETERS = ["targetTaskRunStatus", "priority", "maxFailedTasksCount", "maxRetriesPerTask"]


def _request(**changes: Any) -> RenderRequest:
    fields: Dict[str, Any] = {"workflow_path": str(EXAMPLES / "img2img.json"), "output_dir": "/farm/out",
                              "input_pattern": "/farm/plates/plate.####.png", "frames": "1001-1004",
                              "variations": 3, "seed_strategy": "golden", "base_seed": 7}
    fields.update(changes)
    return RenderRequest(**fields)


def _bundle(tmp_path: Path, *extra: str) -> Tuple[Dict[str, Any], List[Dict[str, Any]], Dict[str, Any]]:
    argv = ["bundle", str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
            "--variations", "4", "--bundle-dir", str(tmp_path / "b"), *extra]
    assert main(argv) == 0
    read = lambda name: yaml.safe_load((tmp_path / "b" / name).read_text())  # noqa: E731
    return read("template.yaml"), read("parameter_values.yaml")["parameterValues"], read("asset_references.yaml")


def test_scheduling_fields_are_written_where_deadline_cloud_reads_them(tmp_path: Path) -> None:
    template, values, _ = _bundle(tmp_path, "--priority", "80", "--max-retries", "2", "--max-failed-tasks", "7",
                                  "--suspended")
    farm = [v for v in values if v["name"].startswith("deadline:")]
    assert farm == [{"name": "deadline:targetTaskRunStatus", "value": "SUSPENDED"},
                    {"name": "deadline:maxFailedTasksCount", "value": 7},
                    {"name": "deadline:maxRetriesPerTask", "value": 2},
                    {"name": "deadline:priority", "value": 80}]
    assert {v["name"].split(":", 1)[1] for v in farm} == set(DEADLINE_APP_PARAMETERS)
    assert values[-4:] == farm  # after the job parameters, as deadline-cloud-for-nuke writes them
    # They are farm fields, not job parameters: the OpenJD template does not know them and stays valid.
    assert not [p for p in template["parameterDefinitions"] if ":" in p["name"]]
    decode_job_template(template=template, supported_extensions=["TASK_CHUNKING"])


def test_default_scheduling_is_deadline_cloud_for_nukes() -> None:
    assert Scheduling().parameter_values() == [
        {"name": "deadline:targetTaskRunStatus", "value": "READY"},
        {"name": "deadline:maxFailedTasksCount", "value": 20},
        {"name": "deadline:maxRetriesPerTask", "value": 5},
        {"name": "deadline:priority", "value": 50}]


@pytest.mark.parametrize(("flags", "message"), [
    (["--priority", "101"], "priority 101 must be between 0 and 100"),
    (["--max-retries", "-1"], "max retries per task -1 must be 0 or more"),
    (["--max-failed-tasks", "-3"], "max failed tasks -3 must be 0 or more"),
    (["--variations-per-task", "0"], "variations per task must be between 1"),
    (["--ocio-config", "/nowhere/config.ocio"], "--ocio-config /nowhere/config.ocio is not a file"),
    (["--path-mapping-rules", "/x.json"], "--path-mapping-rules is for the tasks of a bundle"),
])
def test_bad_farm_options_are_one_line_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                          flags: List[str], message: str) -> None:
    argv = ["bundle", str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
            "--bundle-dir", str(tmp_path / "b"), *flags]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_asset_references_have_deadline_clouds_shape_and_list_what_a_worker_needs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", "[]")
    values = tmp_path / "values.json"
    values.write_text('{"values": {"6.text": "a fox"}}')
    template, _, assets = _bundle(tmp_path, "--values", str(values))
    assert list(assets) == ["assetReferences"]
    refs = assets["assetReferences"]
    assert set(refs) == {"inputs", "outputs", "referencedPaths"} and set(refs["inputs"]) == {"directories", "filenames"}
    assert refs["inputs"]["filenames"] == sorted([str(EXAMPLES / "txt2img_variations.json"), str(values)])
    assert refs["outputs"] == {"directories": [str(tmp_path / "out")]} and refs["referencedPaths"] == []
    flows = {p["name"]: (p.get("objectType"), p.get("dataFlow")) for p in template["parameterDefinitions"]
             if p["type"] == "PATH"}
    assert flows == {"Workflow": ("FILE", "IN"), "OutputDir": ("DIRECTORY", "OUT"), "InputValues": ("FILE", "IN")}


def test_a_local_plate_is_attached_frame_by_frame_and_a_shared_one_is_named_and_left_out() -> None:
    local = collect(_request(frames="1001-1003", images={"12": "/farm/plates/depth.%04d.exr"}))
    assert {f for f in local.input_files if "plates" in f} == {
        *(f"/farm/plates/plate.{f}.png" for f in (1001, 1002, 1003)),
        *(f"/farm/plates/depth.{f}.exr" for f in (1001, 1002, 1003))}
    assert local.shared == []
    shared = collect(_request(input_pattern="U:/Comfy/input/nuke_comfyui/sh010/plate.####.png"),
                     roots=["u:/comfy"])  # Windows compares without case
    assert not any("plate" in f for f in shared.input_files)
    assert shared.shared == ["plate U:/Comfy/input/nuke_comfyui/sh010/plate.####.png"]
    assert "on shared storage, not attached: plate U:/Comfy" in shared.summary()


def test_shared_roots_are_shared_servers_dir_local_and_the_folders_given() -> None:
    class Server:
        def __init__(self, transfer: str, dir_local: str) -> None:
            self.transfer, self.dir_local = transfer, dir_local

    roots = shared_roots([Server("shared", "/mnt/comfy"), Server("upload", "/mnt/other"), Server("shared", "")],
                         ["/studio/plates", "relative/folder"])
    assert roots == ["/mnt/comfy", "/studio/plates"]
    assert is_shared("/mnt/comfy/input/a.png", roots) and not is_shared("/mnt/comfyx/a.png", roots)


def test_the_ocio_config_travels_as_a_parameter_the_tasks_environment_and_attachments(tmp_path: Path) -> None:
    (tmp_path / "luts").mkdir()
    (tmp_path / "more").mkdir()
    config = tmp_path / "config.ocio"
    config.write_text("ocio_profile_version: 2\nsearch_path:\n  - luts\n  - \"more\"\n  - $SHOT/luts\nroles: {}\n")
    assert search_directories(str(config)) == [str(tmp_path / "luts"), str(tmp_path / "more")]
    config.write_text(f"ocio_profile_version: 1\nsearch_path: \"luts:{tmp_path / 'more'}:gone\"\n")
    assert search_directories(str(config)) == [str(tmp_path / "luts"), str(tmp_path / "more")]
    request, options = _request(), BundleOptions(ocio_config=str(config))
    template = job_template(request, options)
    assert template["jobEnvironments"][0]["variables"] == {"OCIO": "{{Param.OcioConfig}}"}
    [ocio] = [p for p in template["parameterDefinitions"] if p["name"] == "OcioConfig"]
    assert (ocio["type"], ocio["objectType"], ocio["dataFlow"]) == ("PATH", "FILE", "IN")
    assert parameter_values(request, options)["OcioConfig"] == str(config)
    refs = collect(request, ocio_config=str(config))
    assert str(config) in refs.input_files and refs.input_directories == {str(tmp_path / "luts"),
                                                                         str(tmp_path / "more")}
    assert "jobEnvironments" not in job_template(request, BundleOptions())


def test_ocio_comes_from_the_environment_when_not_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "studio.ocio"
    config.write_text("ocio_profile_version: 2\n")
    monkeypatch.setenv("OCIO", str(config))
    _, values, _ = _bundle(tmp_path)
    assert {v["name"]: v["value"] for v in values}["OcioConfig"] == str(config)


def _tasks(request: RenderRequest, options: BundleOptions) -> List[Dict[str, str]]:
    template = decode_job_template(template=job_template(request, options), supported_extensions=["TASK_CHUNKING"])
    values = {name: str(value) for name, value in parameter_values(request, options).items()}
    processed = preprocess_job_parameters(job_template=template, job_parameter_values=values,
                                          job_template_dir=Path("/"), current_working_dir=Path("/"))
    space = create_job(job_template=template, job_parameter_values=processed).steps[0].parameterSpace
    if space is None:
        return [{}]
    return [{name: str(value.value) for name, value in task.items()}
            for task in StepParameterSpaceIterator(space=space)]


def test_every_job_runs_in_exactly_one_task_whatever_the_frame_and_variation_split() -> None:
    """Frame chunks x variation blocks, cut by openjd-model itself: the union of the tasks' jobs
    is the local render's plan, each job once, with its seed."""
    rng = random.Random(27)
    for _ in range(12):
        frames = None if rng.random() < 0.3 else f"1-{rng.randint(1, 9)}"
        variations = rng.randint(1, 7)
        per_task = rng.choice([None, 1, 2, 3, 8])
        request = _request(frames=frames, input_pattern="/p/a.####.png" if frames else None, variations=variations,
                           workflow_path=str(EXAMPLES / ("img2img.json" if frames else "txt2img_variations.json")))
        options = BundleOptions(frames_per_task=rng.randint(1, 3), variations_per_task=per_task)
        whole = plan_for_request(request, "f" * 32, check_files=False).specs
        seen = []
        for task in _tasks(request, options):
            specs = _task_specs(whole, task.get("Frame"))
            if "Variation" in task:
                block = VariationBlock(int(task["Variation"]), options.variations_in_task(request))
                specs = [s for s in specs if block.holds(s.variation)]
            seen += [(s.frames, s.frame, s.variation, s.seed) for s in specs]
        assert sorted(seen) == sorted((s.frames, s.frame, s.variation, s.seed) for s in whole), (frames, variations,
                                                                                                 per_task)


def test_variation_only_renders_get_a_task_per_variation_by_default() -> None:
    request = _request(frames=None, input_pattern=None, variations=4,
                       workflow_path=str(EXAMPLES / "txt2img_variations.json"))
    assert [t["Variation"] for t in _tasks(request, BundleOptions())] == ["1", "2", "3", "4"]
    assert [t["Variation"] for t in _tasks(request, BundleOptions(variations_per_task=3))] == ["1", "4"]
    assert _tasks(request, BundleOptions(variations_per_task=4)) == [{}]  # all in one: no Variation parameter
    framed = _request(variations=3)
    assert {"Variation"} & set(_tasks(framed, BundleOptions())[0]) == set()  # frames: all variations per task


def test_task_variations_outside_the_group_are_refused(tmp_path: Path) -> None:
    from nuke_comfyui.farm_bundle.task_plan import plan_task

    request = _request(output_dir=str(tmp_path), frames="1-2")
    assert len(plan_task(request, "a" * 32, None, VariationBlock(3, 2)).plan.specs) == 2  # v3 only: 2 frames
    with pytest.raises(RequestError, match="not variations of the group"):
        plan_task(request, "a" * 32, None, VariationBlock(4, 1))


def test_every_task_maps_paths_with_the_sessions_rules_file() -> None:
    args = job_template(_request(), BundleOptions(config="/studio/servers.json"))["steps"][0]["script"]["actions"][
        "onRun"]["args"]
    assert args[args.index("--path-mapping-rules") + 1] == "{{Session.PathMappingRulesFile}}"
    assert args[args.index("--config") + 1] == "{{Param.ServerConfig}}"  # a PATH parameter: mapped by the session
