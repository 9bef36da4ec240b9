"""Small UI workflows built in code, shaped as the frontend saves them (schema 0.4 root, 1.0 subgraphs)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence


def ui_node(node_id: int, kind: str, values: Optional[Sequence[Any]] = None, *, inputs: Sequence[Any] = (),
            outputs: Sequence[Any] = (), mode: int = 0, title: str = "", order: Optional[int] = None,
            **extra: Any) -> Dict[str, Any]:
    """`inputs`: (name, type, link) or (name, type, link, widget name); `outputs`: (name, type)."""
    node: Dict[str, Any] = {
        "id": node_id, "type": kind, "mode": mode, "order": node_id if order is None else order,
        "inputs": [{"name": i[0], "type": i[1], "link": i[2], **({"widget": {"name": i[3]}} if len(i) > 3 else {})}
                   for i in inputs],
        "outputs": [{"name": o[0], "type": o[1], "links": []} for o in outputs],
        "properties": {},
    }
    if values is not None:
        node["widgets_values"] = list(values)
    if title:
        node["title"] = title
    node.update(extra)
    return node


def workflow(nodes: List[Dict[str, Any]], links: List[List[Any]],
             subgraphs: Sequence[Dict[str, Any]] = ()) -> Dict[str, Any]:
    data: Dict[str, Any] = {"version": 0.4, "nodes": nodes, "links": links}
    if subgraphs:
        data["definitions"] = {"subgraphs": list(subgraphs)}
    return data


def subgraph(sub_id: str, name: str, nodes: List[Dict[str, Any]], links: List[List[Any]],
             inputs: Sequence[Any] = (), outputs: Sequence[Any] = ()) -> Dict[str, Any]:
    """`links` as arrays (turned into the 1.0 objects); `inputs`/`outputs`: (name, type, [link ids])."""
    return {
        "id": sub_id, "name": name, "version": 1, "nodes": nodes,
        "links": [{"id": w[0], "origin_id": w[1], "origin_slot": w[2], "target_id": w[3], "target_slot": w[4],
                   "type": w[5]} for w in links],
        "inputs": [{"name": i[0], "type": i[1], "linkIds": list(i[2])} for i in inputs],
        "outputs": [{"name": o[0], "type": o[1], "linkIds": list(o[2])} for o in outputs],
        "inputNode": {"id": -10}, "outputNode": {"id": -20},
    }


#: a tiny /object_info in the 0.33 shapes: enough classes for hand-made graphs
INFO: Dict[str, Any] = {
    "LoadImage": {"input": {"required": {"image": [["a.png", "b.png"], {"image_upload": True}]}},
                  "input_order": {"required": ["image"]}, "output": ["IMAGE", "MASK"], "display_name": "Load Image"},
    "ImageBlur": {"input": {"required": {"image": ["IMAGE", {}], "blur_radius": ["INT", {"default": 1, "min": 1,
                                                                                       "max": 31}],
                                         "sigma": ["FLOAT", {"default": 1.0, "min": 0.1, "max": 10.0}]}},
                  "input_order": {"required": ["image", "blur_radius", "sigma"]}, "output": ["IMAGE"],
                  "display_name": "Image Blur"},
    "ImageInvert": {"input": {"required": {"image": ["IMAGE", {}]}}, "output": ["IMAGE"],
                    "display_name": "Invert Image"},
    "SaveImage": {"input": {"required": {"images": ["IMAGE", {}], "filename_prefix": ["STRING",
                                                                                      {"default": "ComfyUI"}]}},
                  "input_order": {"required": ["images", "filename_prefix"]}, "output": [], "output_node": True,
                  "display_name": "Save Image"},
    "CLIPTextEncode": {"input": {"required": {"text": ["STRING", {"multiline": True, "dynamicPrompts": True}],
                                              "clip": ["CLIP", {}]}},
                       "input_order": {"required": ["text", "clip"]}, "output": ["CONDITIONING"],
                       "display_name": "CLIP Text Encode (Prompt)"},
    "Sampler": {"input": {"required": {"seed": ["INT", {"default": 0, "min": 0, "max": 2 ** 32,
                                                        "control_after_generate": True}],
                                       "sampler_name": [["euler", "dpmpp"], {"control_after_generate": True}],
                                       "positive": ["CONDITIONING", {}], "steps": ["INT", {"default": 20, "min": 1,
                                                                                           "max": 100}]},
                          "optional": {"image": ["IMAGE", {}], "cfg": ["FLOAT", {"default": 7.0, "min": 0.0,
                                                                                  "max": 30.0}]}},
                "input_order": {"required": ["seed", "sampler_name", "positive", "steps"],
                                "optional": ["image", "cfg"]},
                "output": ["IMAGE"], "display_name": "Sampler"},
    "SaveImageAdvanced": {
        "input": {"required": {
            "images": ["IMAGE", {}],
            "filename_prefix": ["STRING", {"default": "ComfyUI"}],
            "format": ["COMFY_DYNAMICCOMBO_V3", {"options": [
                {"key": "png", "inputs": {"required": {"bit_depth": ["COMBO", {"default": "8-bit",
                                                                                "options": ["8-bit", "16-bit"]}]}}},
                {"key": "exr", "inputs": {"required": {
                    "bit_depth": ["COMBO", {"default": "32-bit float", "options": ["32-bit float"]}],
                    "input_color_space": ["COMBO", {"default": "sRGB", "options": ["sRGB", "HDR", "linear"]}]}}},
            ]}],
        }},
        "input_order": {"required": ["images", "filename_prefix", "format"]}, "output": [], "output_node": True,
        "display_name": "Save Image (Advanced)"},
    "Batch": {"input": {"required": {"images": ["COMFY_AUTOGROW_V3", {"template": {
        "input": {"required": {"image": ["IMAGE", {}]}}, "prefix": "image", "min": 1, "max": 4}}]}},
        "output": ["IMAGE"], "display_name": "Batch Images"},
}
