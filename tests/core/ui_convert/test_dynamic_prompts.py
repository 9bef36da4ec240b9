"""Dynamic prompts: `{a|b}` resolved per job from its seed, comments removed, as the frontend does when it queues."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nuke_comfyui.core import ui_convert
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.ui_convert import dynamic_prompts, marks
from nuke_comfyui.core.ui_convert.dynamic_prompts import resolve
from tests.core.ui_convert.graphs import INFO, ui_node, workflow


def test_choices_comments_and_escapes() -> None:
    assert resolve("a {red|red} car", 1) == "a red car"
    assert resolve("plain // a comment\nnext /* gone */line", 1) == "plain \nnext line"
    assert resolve(r"literal \{braces\} and \| bar", 1) == "literal {braces} and | bar"
    assert resolve("{x {y|y}|x {y|y}}", 5) == "x y"  # nested choices
    assert resolve("see https://example.com", 1) == "see https:"  # the frontend's comment rule, URLs included


@given(st.integers(min_value=0, max_value=2 ** 64 - 1))
def test_a_seed_always_picks_one_of_the_choices_and_the_same_one_again(seed: int) -> None:
    text = resolve("{red|green|blue} {cat|dog}", seed)
    assert text.split()[0] in ("red", "green", "blue") and text.split()[1] in ("cat", "dog")
    assert resolve("{red|green|blue} {cat|dog}", seed) == text  # a retry on any server reproduces it


def test_variations_differ() -> None:
    texts = {resolve("{a|b|c|d|e|f|g|h}", seed, "6.text") for seed in range(40)}
    assert len(texts) == 8


def test_a_converted_prompt_marks_its_dynamic_text_and_a_job_resolves_it() -> None:
    data = workflow([
        ui_node(1, "CLIPTextEncode", ["a {red|blue} car /* draft */"], inputs=[("clip", "CLIP", None)],
                outputs=[("CONDITIONING", "CONDITIONING")]),
        ui_node(2, "Sampler", [1, "fixed", "euler", "fixed", "", 20, 7.0],
                inputs=[("positive", "CONDITIONING", 1)], outputs=[("IMAGE", "IMAGE")]),
        ui_node(3, "SaveImage", ["x"], inputs=[("images", "IMAGE", 2)]),
    ], [[1, 1, 0, 2, 2, "CONDITIONING"], [2, 2, 0, 3, 0, "IMAGE"]])
    encode = {"input": {"required": {"text": INFO["CLIPTextEncode"]["input"]["required"]["text"]},
                        "optional": {"clip": ["CLIP", {}]}},
              "output": ["CONDITIONING"], "display_name": "CLIP Text Encode (Prompt)"}  # no CLIP loader needed here
    prompt = ui_convert.convert(data, {**INFO, "CLIPTextEncode": encode}, "t")
    assert dynamic_prompts.texts(prompt) == {"1.text": "a {red|blue} car /* draft */"}
    changed = dynamic_prompts.resolve_prompt(prompt, seed=7)
    text = prompt["1"]["inputs"]["text"]
    assert text in ("a red car ", "a blue car ") and changed == {"1.text": text}
    marks.strip(prompt)
    assert prompt["1"]["_meta"] == {"title": "CLIP Text Encode (Prompt)"}


def test_a_jobs_details_show_the_text_it_was_sent() -> None:
    request = RenderRequest(workflow_path="w.json", output_dir="/o", frames="1-2",
                            dynamic_prompts={"6.text": "{fox|owl}"},
                            frame_values={"6.text": {"2": "a {cat|cat}"}})
    assert dynamic_prompts.for_job(request, 1, 11)["6.text"] == resolve("{fox|owl}", 11, "6.text")
    assert dynamic_prompts.for_job(request, 2, 11) == {"6.text": "a cat"}  # the animated text of frame 2
