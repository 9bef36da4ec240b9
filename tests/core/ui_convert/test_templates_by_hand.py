"""Ten official templates of different kinds, their converted prompts checked in full against expectations
derived by hand from the frontend's rules (ComfyUI_frontend 1.49, the one ComfyUI 0.33 ships).

How each expectation was derived, once for all: read the template's JSON and the class's
declaration in the recorded 0.33 `/object_info`, then apply the frontend's `graphToPrompt` by hand:
- widgets are made in the class's `input_order` (required, then optional), sockets take no saved
  value; an INT seed or an input with `control_after_generate` is followed by its control widget
  (its saved value, `fixed`/`randomize`, is skipped); an image combo has an upload button after
  all inputs (its saved value "image" is skipped); a dynamic combo's chosen option inserts its
  inputs `combo.sub` right after it; a widget without a saved value keeps its default;
- the title is the node's own title, else the class's `display_name`, else its name;
- a node inside subgraph instance I gets id `I:node`; an input wired to the subgraph's input proxy
  takes the instance's outer link, else the instance's value for that input (its
  `widgets_values`, one per input wired to a widget inside, else that inner widget's own value);
- muted nodes send nothing; a bypassed node passes on its same-slot input when that input's type
  fits, else its first input of the wanted type, else nothing; reroutes pass their input on; a
  legacy PrimitiveNode writes its value into the widgets it is wired to directly.
Long texts are read from the template file with `saved(...)` (a stored value, not the converter's
output), so the expectation stays readable.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from nuke_comfyui.core import ui_convert
from nuke_comfyui.core.ui_convert import dynamic_prompts, marks
from tests.core.ui_convert import corpus

INFO = corpus.object_info("comfyui-0.33.0")


def converted(name: str, seed: int = 0) -> Dict[str, Any]:
    prompt = ui_convert.convert(corpus.template(name), INFO, name)
    dynamic_prompts.resolve_prompt(prompt, seed)  # what a job does before sending (texts here have no {a|b})
    marks.strip(prompt)
    return prompt


def saved(name: str, node_id: int, index: int, subgraph: str = "") -> Any:
    """Position `index` of a node's saved widgets_values (in a subgraph definition when named)."""
    data = corpus.template(name)
    nodes: List[Dict[str, Any]] = data["nodes"]
    if subgraph:
        nodes = next(s["nodes"] for s in data["definitions"]["subgraphs"] if s["id"] == subgraph)
    return next(n for n in nodes if n["id"] == node_id)["widgets_values"][index]


def node(class_type: str, title: str, **inputs: Any) -> Dict[str, Any]:
    return {"inputs": inputs, "class_type": class_type, "_meta": {"title": title}}


def test_dynamic_combo_and_autogrow_claude() -> None:
    """ClaudeNode: `model` is a dynamic combo ("Opus 4.7" brings max_tokens, temperature,
    reasoning_effort, saved right after it), then seed and its control value, then images
    (autogrow sockets, no values), then the optional system_prompt. The issue's old walk sent
    "seed": "Opus 4.7"; PreviewAny's three saved nulls belong to frontend-only preview widgets."""
    assert converted("api_anthropic_claude.json") == {
        "2": node("LoadImage", "Load Image", image="ice_cold_pup.png"),
        "5": node("ClaudeNode", "Anthropic Claude", prompt="Describe this image", model="Opus 4.7",
                  **{"model.max_tokens": 32768, "model.temperature": 1, "model.reasoning_effort": "off"},
                  seed=0, system_prompt="", **{"images.image_1": ["2", 0]}),
        "3": node("PreviewAny", "Preview as Text", source=["5", 0]),
    }


def test_bypassed_loader_feeds_nothing() -> None:
    """The bypassed LoadImage 14 has no input to pass on, so image_prompt is simply absent;
    FluxProUltraImageNode's values: prompt, prompt_upsampling, seed (+control), aspect_ratio, raw,
    then optional image_prompt_strength (image_prompt is a socket)."""
    name = "api_bfl_flux_pro_t2i.json"
    assert converted(name) == {
        "11": node("FluxProUltraImageNode", "Flux 1.1 [pro] Ultra Image", prompt=saved(name, 11, 0),
                   prompt_upsampling=False, seed=589991183902375, aspect_ratio="1:1", raw=False,
                   image_prompt_strength=0.4000000000000001),
        "12": node("SaveImage", "Save Image", filename_prefix="ComfyUI", images=["11", 0]),
    }


def test_subgraph_with_instance_values_and_nested_autogrow_link() -> None:
    """Instance 2 of "Edit Image (Nano Banana 2)": its one saved value "" belongs to `prompt` (the only
    subgraph input wired to a widget). Inside, GeminiNanoBanana2V2's dynamic combo `model` brings
    aspect_ratio, resolution, thinking_level, an autogrow group `model.images` and a socket; its
    `model.images.image_1` leaves the subgraph through the instance's `image` link from LoadImage 1."""
    name = "api_google_nano_banana2_image_edit_continuation.json"
    definition = "4d2ab4f5-8f54-4b5b-a4e2-49b35a60ad9d"
    assert converted(name) == {
        "1": node("LoadImage", "Load Image", image="saintly_rose_portrait.png"),
        "2:2": node("GeminiNanoBanana2V2", "Nano Banana 2", prompt="",
                    model="Nano Banana 2 (Gemini 3.1 Flash Image)",
                    **{"model.aspect_ratio": "auto", "model.resolution": "1K", "model.thinking_level": "HIGH",
                       "model.images.image_1": ["1", 0]},
                    seed=123, response_modalities="IMAGE", system_prompt=saved(name, 2, 8, definition),
                    temperature=1, top_p=0.95),
        "4": node("SaveImage", "Save Image", filename_prefix="api_google_nano_banana2_image_edit_continuation",
                  images=["2:2", 0]),
    }


def test_subgraph_with_promoted_widgets_and_no_instance_values() -> None:
    """Instance 57 saved no values (its promoted widgets are listed in proxyWidgets only), so each
    subgraph input takes the value of the widget inside it is wired to. The prompt text reaches
    CLIPTextEncode through the subgraph input: sent as typed."""
    name = "image_z_image_turbo.json"
    definition = "f2fdebf6-dfaf-43b6-9eb2-7f70613cfdc1"
    assert converted(name) == {
        "57:3": node("KSampler", "KSampler", seed=0, steps=8, cfg=1, sampler_name="res_multistep",
                     scheduler="simple", denoise=1, model=["57:11", 0], positive=["57:27", 0],
                     negative=["57:33", 0], latent_image=["57:13", 0]),
        "57:8": node("VAEDecode", "VAE Decode", samples=["57:3", 0], vae=["57:29", 0]),
        "57:11": node("ModelSamplingAuraFlow", "ModelSamplingAuraFlow", shift=3, model=["57:28", 0]),
        "57:13": node("EmptySD3LatentImage", "EmptySD3LatentImage", width=1024, height=1024, batch_size=1),
        "57:27": node("CLIPTextEncode", "CLIP Text Encode (Prompt)", text=saved(name, 27, 0, definition),
                      clip=["57:30", 0]),
        "57:28": node("UNETLoader", "Load Diffusion Model", unet_name="z_image_turbo_bf16.safetensors",
                      weight_dtype="default"),
        "57:29": node("VAELoader", "Load VAE", vae_name="ae.safetensors"),
        "57:30": node("CLIPLoader", "Load CLIP", clip_name="qwen_3_4b.safetensors", type="lumina2",
                      device="default"),
        "57:33": node("ConditioningZeroOut", "Conditioning Zero Out", conditioning=["57:27", 0]),
        "9": node("SaveImage", "Save Image", filename_prefix="z-image-turbo", images=["57:8", 0]),
    }


def test_nested_subgraphs() -> None:
    """Subgraph instance 48 holds another instance, 35 ("CLIP Text Encode (Negative Prompt)"): its
    nodes get ids 48:35:N. 35's `clip` input comes from 48:34's CLIP output; its `value` input has no
    link and 35 saved no values, so it carries the value of the widget it feeds (42's own text)."""
    name = "image_netayume_lumina_t2i.json"
    outer, inner = "3649d32d-3c81-4249-9e89-a1fe12609f65", "5c992ce5-7a24-449d-9372-8e1ed5e38cc8"
    assert converted(name) == {
        "48:31": node("EmptySD3LatentImage", "EmptySD3LatentImage", width=1024, height=1024, batch_size=1),
        "48:34": node("CheckpointLoaderSimple", "Load Checkpoint",
                      ckpt_name="NetaYumev35_pretrained_all_in_one.safetensors"),
        "48:52": node("PrimitiveStringMultiline", "System prompt", value=saved(name, 52, 0, outer)),
        "48:32": node("ModelSamplingAuraFlow", "ModelSamplingAuraFlow", shift=4, model=["48:34", 0]),
        "48:35:41": node("PrimitiveStringMultiline", "System prompt", value=saved(name, 41, 0, inner)),
        "48:35:40": node("StringConcatenate", "Concatenate Text", string_a=["48:35:41", 0],
                         string_b=["48:35:42", 0], delimiter=""),
        "48:35:42": node("PrimitiveStringMultiline", "System prompt", value=saved(name, 42, 0, inner)),
        "48:35:43": node("CLIPTextEncode", "CLIP Text Encode (Negative Prompt)", text=["48:35:40", 0],
                         clip=["48:34", 1]),
        "48:33": node("KSampler", "KSampler", seed=0, steps=30, cfg=4, sampler_name="res_multistep",
                      scheduler="simple", denoise=1, model=["48:32", 0], positive=["48:50", 0],
                      negative=["48:35:43", 0], latent_image=["48:31", 0]),
        "48:36": node("VAEDecode", "VAE Decode", samples=["48:33", 0], vae=["48:34", 2]),
        "48:49": node("StringConcatenate", "Concatenate Text", string_a=["48:52", 0], string_b=["48:51", 0],
                      delimiter=""),
        "48:50": node("CLIPTextEncode", "CLIP Text Encode (Positive Prompt)", text=["48:49", 0],
                      clip=["48:34", 1]),
        "48:51": node("PrimitiveStringMultiline", "Prompt", value=saved(name, 51, 0, outer)),
        "9": node("SaveImage", "Save Image", filename_prefix="NetaYume_Lumina_3.5", images=["48:36", 0]),
    }


def test_legacy_primitive_nodes_write_their_values() -> None:
    """PrimitiveNodes 45 (steps 25), 47 (20: BASE end_at_step, REFINER start_at_step), 51 and 50 (the
    prompts) write into the widgets they are wired to; KSamplerAdvanced's values: add_noise,
    noise_seed (+control), steps, cfg, sampler_name, scheduler, start_at_step, end_at_step,
    return_with_leftover_noise."""
    positive = "evening sunset scenery blue sky nature, glass bottle with a galaxy in it"
    assert converted("sdxl_simple_example.json") == {
        "5": node("EmptyLatentImage", "Empty Latent Image", width=1024, height=1024, batch_size=1),
        "4": node("CheckpointLoaderSimple", "Load Checkpoint - BASE", ckpt_name="sd_xl_base_1.0.safetensors"),
        "12": node("CheckpointLoaderSimple", "Load Checkpoint - REFINER",
                   ckpt_name="sd_xl_refiner_1.0.safetensors"),
        "6": node("CLIPTextEncode", "CLIP Text Encode (Prompt)", text=positive, clip=["4", 1]),
        "15": node("CLIPTextEncode", "CLIP Text Encode (Prompt)", text=positive, clip=["12", 1]),
        "7": node("CLIPTextEncode", "CLIP Text Encode (Prompt)", text="text, watermark", clip=["4", 1]),
        "16": node("CLIPTextEncode", "CLIP Text Encode (Prompt)", text="text, watermark", clip=["12", 1]),
        "10": node("KSamplerAdvanced", "KSampler (Advanced) - BASE", add_noise="enable",
                   noise_seed=721897303308196, steps=25, cfg=8, sampler_name="euler", scheduler="normal",
                   start_at_step=0, end_at_step=20, return_with_leftover_noise="enable", model=["4", 0],
                   positive=["6", 0], negative=["7", 0], latent_image=["5", 0]),
        "11": node("KSamplerAdvanced", "KSampler (Advanced) - REFINER", add_noise="disable", noise_seed=0,
                   steps=25, cfg=8, sampler_name="euler", scheduler="normal", start_at_step=20,
                   end_at_step=10000, return_with_leftover_noise="disable", model=["12", 0],
                   positive=["15", 0], negative=["16", 0], latent_image=["10", 0]),
        "17": node("VAEDecode", "VAE Decode", samples=["11", 0], vae=["12", 2]),
        "19": node("SaveImage", "Save Image", filename_prefix="ComfyUI", images=["17", 0]),
    }


def test_reroutes_are_followed() -> None:
    """ImageStitch's two images come through Reroutes 21 and 20 from the two Gemini nodes; a
    GeminiImage2Node's values: prompt, model, seed (+control), aspect_ratio, resolution,
    response_modalities, then (after the images and files sockets) system_prompt."""
    name = "templates-character_sheet.json"

    def gemini(node_id: int, seed: int, ratio: str) -> Dict[str, Any]:
        return node("GeminiImage2Node", "Nano Banana Pro (Google Gemini Image)", prompt=saved(name, node_id, 0),
                    model="gemini-3-pro-image-preview", seed=seed, aspect_ratio=ratio, resolution="2K",
                    response_modalities="IMAGE+TEXT", system_prompt=saved(name, node_id, 7), images=["1", 0])

    assert converted(name) == {
        "1": node("LoadImage", "Load Character Image", image="templates-character_sheet_pink_silver_outfit.jpg"),
        "5": gemini(5, 54321, "9:16"),
        "7": gemini(7, 12345, "16:9"),
        "4": node("SaveImage", "Save Image", filename_prefix="ComfyUI-close_up", images=["5", 0]),
        "6": node("SaveImage", "Save Image", filename_prefix="ComfyUI-full_body", images=["7", 0]),
        "11": node("ImageStitch", "Stitch Images", direction="right", match_image_size=True, spacing_width=0,
                   spacing_color="white", image1=["7", 0], image2=["5", 0]),
        "15": node("SaveImage", "Save Image", filename_prefix="ComfyUI-character_sheet", images=["11", 0]),
    }


def test_muted_node_and_nested_dynamic_combos_of_save_video() -> None:
    """VAEDecode 8 is muted: not sent. SaveVideo's values: filename_prefix, format ("auto" brings
    format.codec, whose "auto" brings nothing), then the optional top-level codec, which has no
    saved value and keeps its default (first key, "auto"). CreateVideo's optional bit_depth has no
    saved value either and keeps its default 8."""
    name = "hunyuan_video_text_to_video.json"
    assert converted(name) == {
        "11": node("DualCLIPLoader", "Load CLIP (Dual)", clip_name1="clip_l.safetensors",
                   clip_name2="llava_llama3_fp8_scaled.safetensors", type="hunyuan_video", device="default"),
        "12": node("UNETLoader", "Load Diffusion Model", unet_name="hunyuan_video_t2v_720p_bf16.safetensors",
                   weight_dtype="default"),
        "10": node("VAELoader", "Load VAE", vae_name="hunyuan_video_vae_bf16.safetensors"),
        "45": node("EmptyHunyuanLatentVideo", "Empty HunyuanVideo 1.0 Latent", width=848, height=480, length=73,
                   batch_size=1),
        "16": node("KSamplerSelect", "KSamplerSelect", sampler_name="euler"),
        "25": node("RandomNoise", "RandomNoise", noise_seed=1),
        "44": node("CLIPTextEncode", "CLIP Text Encode (Positive Prompt)", text=saved(name, 44, 0),
                   clip=["11", 0]),
        "17": node("BasicScheduler", "BasicScheduler", scheduler="simple", steps=20, denoise=1, model=["12", 0]),
        "67": node("ModelSamplingSD3", "ModelSamplingSD3", shift=7, model=["12", 0]),
        "26": node("FluxGuidance", "FluxGuidance", guidance=6, conditioning=["44", 0]),
        "22": node("BasicGuider", "Basic Guider", model=["67", 0], conditioning=["26", 0]),
        "13": node("SamplerCustomAdvanced", "SamplerCustomAdvanced", noise=["25", 0], guider=["22", 0],
                   sampler=["16", 0], sigmas=["17", 0], latent_image=["45", 0]),
        "73": node("VAEDecodeTiled", "VAE Decode (Tiled)", tile_size=256, overlap=64, temporal_size=64,
                   temporal_overlap=8, samples=["13", 0], vae=["10", 0]),
        "79": node("CreateVideo", "Create Video", fps=24, bit_depth=8, images=["73", 0]),
        "80": node("SaveVideo", "Save Video", filename_prefix="video/ComfyUI", format="auto",
                   **{"format.codec": "auto"}, codec="auto", video=["79", 0]),
    }


def test_bypassed_encoders_whose_inputs_do_not_fit_feed_nothing() -> None:
    """The issue counted two of four image links "lost": the left and right CLIPVisionEncode (79, 86)
    are bypassed, and a bypassed node passes on only an input whose type fits the wanted
    CLIP_VISION_OUTPUT; theirs are CLIP_VISION and IMAGE, so the frontend sends no left/right either."""
    assert converted("3d_hunyuan3d_multiview_to_model.json") == {
        "56": node("LoadImage", "Load Image", image="3d_hunyuan3d_multiview_to_model_front_image.png"),
        "80": node("LoadImage", "Load Image", image="3d_hunyuan3d_multiview_to_model_back_image.png"),
        "66": node("EmptyLatentHunyuan3Dv2", "EmptyLatentHunyuan3Dv2", resolution=3072, batch_size=1),
        "54": node("ImageOnlyCheckpointLoader", "Load Checkpoint Image Only (img2vid model)",
                   ckpt_name="hunyuan3d-dit-v2-mv_fp16.safetensors"),
        "70": node("ModelSamplingAuraFlow", "ModelSamplingAuraFlow", shift=1.0000000000000002, model=["54", 0]),
        "51": node("CLIPVisionEncode", "CLIP Vision Encode", crop="none", clip_vision=["54", 1], image=["56", 0]),
        "81": node("CLIPVisionEncode", "CLIP Vision Encode", crop="none", clip_vision=["54", 1], image=["80", 0]),
        "65": node("Hunyuan3Dv2ConditioningMultiView", "Hunyuan3Dv2ConditioningMultiView", front=["51", 0],
                   back=["81", 0]),
        "3": node("KSampler", "KSampler", seed=502126049100058, steps=20, cfg=7.5, sampler_name="euler",
                  scheduler="normal", denoise=1, model=["70", 0], positive=["65", 0], negative=["65", 1],
                  latent_image=["66", 0]),
        "61": node("VAEDecodeHunyuan3D", "VAEDecodeHunyuan3D", num_chunks=8000, octree_resolution=256,
                   samples=["3", 0], vae=["54", 2]),
        "82": node("VoxelToMesh", "Voxel to Mesh", algorithm="surface net", threshold=0.6, voxel=["61", 0]),
        "83": node("SaveGLB", "Save 3D Model", filename_prefix="mesh/ComfyUI", mesh=["82", 0]),
    }


def test_instance_values_reach_the_widgets_inside() -> None:
    """Instance 7's saved values [9, 4, "mask", model] belong, in order, to its subgraph inputs wired to
    widgets inside: resolution_level, batch_size, output, model_name. MoGeInference saved a sixth
    value (a newer version's input); 0.33's five widgets take the first five."""
    assert converted("utility_moge3_geometry_estimation.json") == {
        "3": node("LoadImage", "Load Image", image="cosmic_suitcase.png"),
        "7:1": node("LoadMoGeModel", "Load MoGe Model", model_name="moge_3_vitg_fp16.safetensors"),
        "7:2": node("MoGeInference", "Run MoGe Inference", resolution_level=9, fov_x_degrees=0, batch_size=4,
                    force_projection=True, apply_mask=True, moge_model=["7:1", 0], image=["3", 0]),
        "7:5": node("MoGeRender", "Render MoGe Geometry", output="mask", moge_geometry=["7:2", 0]),
        "6": node("PreviewImage", "Preview Image", images=["7:5", 0]),
    }


@pytest.mark.parametrize("name", ["api_anthropic_claude.json", "image_netayume_lumina_t2i.json"])
def test_conversion_is_stable(name: str) -> None:
    """Same file, same prompt (ids and all): a retry or a resume sends the same graph."""
    assert converted(name) == converted(name)
