"""The OpenJD job template and bundle: valid for openjd-model, and tasks that add up to the group.

The template is checked by openjd-model (the reference implementation of the jobtemplate-2023-09
schema and its TASK_CHUNKING extension, which AWS Deadline Cloud and openjd-cli run), and the
tasks it makes are expanded with openjd-model's own parameter-space iterator.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from openjd.model import (
    DecodeValidationError,
    StepParameterSpaceIterator,
    create_job,
    decode_job_template,
    preprocess_job_parameters,
)

from nuke_comfyui.cli.main import main
from nuke_comfyui.core.errors import NukeComfyError
from nuke_comfyui.core.frames import FrameSet
from nuke_comfyui.core.render_request import RenderRequest, RequestError
from nuke_comfyui.core.scheduler.request_plan import plan_for_request
from nuke_comfyui.farm_bundle import yaml_text
from nuke_comfyui.farm_bundle.bundle import write_bundle
from nuke_comfyui.farm_bundle.frame_ranges import FrameRangeError, from_openjd, to_openjd
from nuke_comfyui.farm_bundle.task_plan import check_group_id, plan_task
from nuke_comfyui.farm_bundle.template import BundleOptions, job_template, parameter_values

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _request(**changes: Any) -> RenderRequest:
    fields: Dict[str, Any] = {"workflow_path": str(EXAMPLES / "img2img.json"), "output_dir": "/farm/out",
                              "input_pattern": "/farm/plates/plate.####.png", "frames": "1001-1010",
                              "variations": 2, "seed_strategy": "golden", "base_seed": 7}
    fields.update(changes)
    return RenderRequest(**fields)


def _tasks(request: RenderRequest, options: BundleOptions) -> List[str]:
    """The `Frame` value of every task openjd-model makes from the template with its bundle values."""
    template = decode_job_template(template=job_template(request, options), supported_extensions=["TASK_CHUNKING"])
    values = {name: str(value) for name, value in parameter_values(request, options).items()}
    processed = preprocess_job_parameters(job_template=template, job_parameter_values=values,
                                          job_template_dir=Path("/"), current_working_dir=Path("/"))
    job = create_job(job_template=template, job_parameter_values=processed)
    space = job.steps[0].parameterSpace
    if space is None:
        return []
    return [str(task["Frame"].value) for task in StepParameterSpaceIterator(space=space)]


@pytest.mark.parametrize("layout", ["thin", "gpu"])
@pytest.mark.parametrize("changes", [{}, {"input_pattern": None, "frames": None, "variations": 4},
                                     {"frames": "-5--1,1-20x3,100", "label": "shot 10", "timeout": 30.0,
                                      "strategy": "priority", "chunk_size": 2}])
def test_template_is_valid_openjd_and_yaml_round_trips(layout: str, changes: Dict[str, Any]) -> None:
    request = _request(**changes)
    template = job_template(request, BundleOptions(layout=layout, frames_per_task=4, config="/studio/servers.json"))
    decoded = decode_job_template(template=template, supported_extensions=["TASK_CHUNKING"])
    assert decoded.specificationVersion.value == "jobtemplate-2023-09"
    assert yaml.safe_load(yaml_text.dump(template)) == template
    names = [p["name"] for p in template["parameterDefinitions"]]
    assert {"Workflow", "OutputDir", "Variations", "SeedStrategy", "BaseSeed", "GroupId"} <= set(names)
    assert ({"Frames", "ChunkSize"} <= set(names)) == bool(request.frames)
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[:2] == ["render", "{{Param.Workflow}}"] and "{{Param.GroupId}}" in args
    assert ("--config" in args) == (layout == "thin")  # gpu workers use their own ComfyUI, not the studio's
    assert ("stepEnvironments" in template["steps"][0]) == (layout == "gpu")


def test_without_the_extension_openjd_refuses_the_chunked_template() -> None:
    with pytest.raises(DecodeValidationError, match="TASK_CHUNKING"):
        decode_job_template(template=job_template(_request(), BundleOptions()), supported_extensions=[])


def test_gpu_layout_points_each_worker_at_its_own_comfyui() -> None:
    template = job_template(_request(), BundleOptions(layout="gpu", comfy_port=8190))
    variables = template["steps"][0]["stepEnvironments"][0]["variables"]
    servers = json.loads(variables["NUKE_COMFYUI_SERVERS"].replace("{{Param.ComfyPort}}", "8190"))
    assert servers == [{"name": "local", "host": "127.0.0.1", "port": 8190}]
    assert parameter_values(_request(), BundleOptions(layout="gpu", comfy_port=8190))["ComfyPort"] == 8190


def test_parameter_values_carry_the_request() -> None:
    values = parameter_values(_request(frames="1001-1100x2"), BundleOptions(frames_per_task=10, group_id="a" * 32))
    assert values["Frames"] == "1001-1099:2" and values["ChunkSize"] == 10
    assert values["Variations"] == 2 and values["SeedStrategy"] == "golden" and values["BaseSeed"] == 7
    assert values["GroupId"] == "a" * 32 and values["InputPattern"] == "/farm/plates/plate.####.png"


def test_tasks_cover_every_frame_once() -> None:
    tasks = _tasks(_request(frames="1001-1010"), BundleOptions(frames_per_task=4))
    assert len(tasks) == 3
    covered = [f for task in tasks for f in FrameSet.parse(from_openjd(task))]
    assert sorted(covered) == list(range(1001, 1011))


def test_every_job_of_the_group_runs_in_exactly_one_task_whatever_the_chunking() -> None:
    """OpenJD balances chunks (a run of 5 frames in chunks of 4 becomes 3 + 2), so a task owns the
    jobs that start in it: each job of the local render then runs once, whole, with its seed."""
    rng = random.Random(12)
    for _ in range(15):
        frames = ",".join(str(f) for f in sorted(rng.sample(range(-10, 60), rng.randint(1, 25))))
        chunk = min(rng.randint(1, 3), len(FrameSet.parse(frames)))  # a chunk is never larger than the shot
        request = _request(frames=frames, chunk_size=chunk, input_pattern="/farm/plate.####.png")
        whole = plan_for_request(request, "f" * 32, check_files=False).specs
        seen = []
        for task in _tasks(request, BundleOptions(frames_per_task=chunk * rng.randint(1, 3))):
            seen += [(s.frames, s.variation, s.seed) for s in _task_specs_of(request, task)]
        assert sorted(seen) == sorted((s.frames, s.variation, s.seed) for s in whole), frames


def _task_specs_of(request: RenderRequest, task_frames: str) -> List[Any]:
    from nuke_comfyui.farm_bundle.task_plan import _task_specs

    return _task_specs(plan_for_request(request, "f" * 32, check_files=False).specs, task_frames)


def test_frame_range_notations_convert_both_ways() -> None:
    assert to_openjd("1001-1100x2,1200") == "1001-1099:2,1200"
    assert from_openjd("1001-1099:2,1200") == "1001-1099x2,1200"
    assert from_openjd("-5--1") == "-5--1" and from_openjd("7") == "7"
    for bad in ("1-5x2", "a-b", "1-5:0", ""):
        with pytest.raises(NukeComfyError):
            from_openjd(bad)
    with pytest.raises(FrameRangeError, match="OpenJD range expression"):
        from_openjd("1..5")


def test_bad_options_are_named() -> None:
    with pytest.raises(RequestError, match="layout 'cloud'"):
        job_template(_request(), BundleOptions(layout="cloud"))
    with pytest.raises(RequestError, match="between 1 and 150"):
        job_template(_request(), BundleOptions(frames_per_task=151))
    with pytest.raises(RequestError, match="32 hex digits"):
        check_group_id("../../etc")


def test_task_plan_skips_delivered_jobs_and_refuses_stray_frames(tmp_path: Path) -> None:
    request = _request(output_dir=str(tmp_path), frames="1-4", variations=2)
    group = "b" * 32
    first = plan_task(request, group, "1-4")
    assert first.jobs_in_task == 8 and first.already_delivered == 0
    var01 = first.folder / "var01"
    var01.mkdir()
    (var01 / "img2img_var01.0002.png").write_bytes(b"done")
    (var01 / ".part-x.png").write_bytes(b"half")  # a temporary of an interrupted write is not a result
    (var01 / "img2img_var01.0003.png.part").write_bytes(b"half")
    again = plan_task(request, group, "1-4")
    assert again.already_delivered == 1 and len(again.plan.specs) == 7
    assert [s.index for s in again.plan.specs] == list(range(7))
    assert (2, 0) not in {(s.frame, s.variation) for s in again.plan.specs}
    assert len(plan_task(request, group, "3-9:2").plan.specs) == 2  # frame 3, both variations; 5-9 are not the group's
    with pytest.raises(RequestError, match="not frames of the group"):
        plan_task(request, group, "5-9")


def test_bundle_command_writes_deadline_layout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bundle = tmp_path / "bundle"
    argv = ["bundle", str(EXAMPLES / "img2img.json"), "--output", str(tmp_path / "out"),
            "--input", str(tmp_path / "plate.####.png"), "--frames", "1-20", "--frames-per-task", "5",
            "--variations", "3", "--seed-strategy", "fibonacci", "--base-seed", "11",
            "--bundle-dir", str(bundle), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in bundle.iterdir()) == ["asset_references.yaml", "parameter_values.yaml",
                                                        "template.yaml"]
    values = {v["name"]: v["value"] for v in yaml.safe_load((bundle / "parameter_values.yaml").read_text())
              ["parameterValues"]}
    assert values["Frames"] == "1-20" and values["ChunkSize"] == 5 and values["Variations"] == 3
    assert values["SeedStrategy"] == "fibonacci" and values["BaseSeed"] == 11
    assert values["GroupId"] == summary["group_id"]
    assert summary["submit_command"] == ["deadline", "bundle", "submit", str(bundle)]
    decode_job_template(template=yaml.safe_load((bundle / "template.yaml").read_text()),
                        supported_extensions=["TASK_CHUNKING"])


def test_bundle_submit_without_deadline_says_where_and_how(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    argv = ["bundle", str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
            "--variations", "2", "--bundle-dir", str(tmp_path / "b"), "--submit"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "`deadline` command" in err and f"deadline bundle submit {tmp_path / 'b'}" in err
    assert (tmp_path / "b" / "template.yaml").is_file()


def test_bundle_into_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NukeComfyError, match="is a file"):
        write_bundle(str(blocker), {"a": 1}, {})


def test_farm_task_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["render", str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path)]
    assert main([*base, "--frames", "1-4", "--task-frames", "1-2"]) == 1
    assert "--task-frames needs --group-id" in capsys.readouterr().err
    assert main([*base, "--group-id", "../x"]) == 1
    assert "32 hex digits" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written for a refused task


def test_bundle_refuses_a_workflow_the_tasks_could_not_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["bundle", str(tmp_path / "missing.json"), "--output", str(tmp_path / "out"),
            "--bundle-dir", str(tmp_path / "b")]
    assert main(argv) == 1
    assert "missing.json" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_render_options_the_template_does_not_know_are_passed_on(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Render options the template has no parameter for (`--set NODE.INPUT=VALUE`, one added later) reach every task."""
    from nuke_comfyui.cli import render_cmd

    original = render_cmd.add_arguments

    def with_set(parser: Any) -> None:
        original(parser)
        parser.add_argument("--dry", action="store_true")

    monkeypatch.setattr(render_cmd, "add_arguments", with_set)
    argv = ["bundle", str(EXAMPLES / "txt2img_variations.json"), "--output", str(tmp_path / "out"),
            "--set", "6.text=a fox", "--set", "3.steps=8", "--label", "fox", "--dry",
            "--bundle-dir", str(tmp_path / "b")]
    assert main(argv) == 0
    args = yaml.safe_load((tmp_path / "b" / "template.yaml").read_text())["steps"][0]["script"]["actions"]["onRun"]
    assert args["args"][-7:] == ["--label", "fox", "--set", "6.text=a fox", "--set", "3.steps=8", "--dry"]


def test_tasks_starting_together_share_one_group_folder(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from nuke_comfyui.farm_bundle.task_plan import claim_group_folder

    for attempt in range(20):
        out = tmp_path / str(attempt)
        with ThreadPoolExecutor(8) as pool:
            folders = set(pool.map(claim_group_folder, [str(out)] * 8, ["shot"] * 8, ["d" * 32] * 8))
        assert folders == {out / f"shot_{'d' * 8}"}
        assert (out / f"shot_{'d' * 8}" / ".nuke_comfyui_group").read_text() == "d" * 32


def test_no_base_seed_travels_as_minus_one_and_the_task_reads_it_back_as_none() -> None:
    """OpenJD INT parameters cannot be empty: 'no base seed' (one variation keeps the workflow's own
    seed) is BaseSeed -1, which `render --base-seed -1` reads as None, so the farm keeps it too."""
    import argparse

    from nuke_comfyui.cli import render_cmd

    request = _request(variations=1, base_seed=None)
    values = parameter_values(request, BundleOptions())
    assert values["BaseSeed"] == -1
    decode_job_template(template=job_template(request, BundleOptions()),  # -1 is inside the declared range
                        supported_extensions=["TASK_CHUNKING"])
    parser = argparse.ArgumentParser()
    render_cmd.add_arguments(parser)
    parsed = parser.parse_args(["w.json", "--output", "o", "--base-seed", "-1"])
    assert parsed.base_seed is None
    assert parser.parse_args(["w.json", "--output", "o", "--base-seed", "5"]).base_seed == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["w.json", "--output", "o", "--base-seed", "-2"])


def test_further_image_inputs_reach_each_task_as_image_arguments() -> None:
    """The Nuke node's other image inputs (request.images) travel as `render --image NODE=PATTERN`,
    which the task's render command reads back into the same request.images."""
    import argparse

    from nuke_comfyui.cli import render_cmd
    from nuke_comfyui.farm_bundle.template import task_arguments

    request = _request(images={"12": "/farm/plates/depth.%04d.png", "11": "/farm/plates/matte.%04d.png"})
    args = task_arguments(request, BundleOptions())
    assert [args[i + 1] for i, a in enumerate(args) if a == "--image"] == [
        "11=/farm/plates/matte.%04d.png", "12=/farm/plates/depth.%04d.png"]
    parser = argparse.ArgumentParser()
    render_cmd.add_arguments(parser)
    values = {**parameter_values(request, BundleOptions()), "Frame": "1001", "PathMappingRulesFile": "/tmp/rules.json"}
    parsed = parser.parse_args([str(values[a.strip("{}").split(".")[-1]]) if a.startswith("{{") else a
                                for a in args[1:]])
    assert parsed.images == ["11=/farm/plates/matte.%04d.png", "12=/farm/plates/depth.%04d.png"]
    assert "--image" not in task_arguments(_request(), BundleOptions())


def test_tasks_of_a_group_without_a_base_seed_agree_on_the_drawn_seeds(tmp_path: Path) -> None:
    """Each farm task plans the whole group on its own: the drawn base seed must come out the same."""
    request = _request(output_dir=str(tmp_path), frames="1-4", variations=3, base_seed=None)
    group = "c" * 32
    seeds = [{(s.frame, s.variation): s.seed for s in plan_task(request, group, frames).plan.specs}
             for frames in ("1-2", "3-4")]
    assert len(set(seeds[0].values())) == 3 and set(seeds[0].values()) == set(seeds[1].values())
    other = {s.seed for s in plan_task(request, "d" * 32, "1-4").plan.specs}
    assert other.isdisjoint(seeds[0].values())
