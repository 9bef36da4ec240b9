"""Prompt validation with ComfyUI 0.8's exact error shapes (`execution.validate_prompt`).

A client must tell "this workflow can never run here" (HTTP 400, never retried) from "it ran and
failed", and must surface per-node errors to the artist. So the simulator reproduces ComfyUI's
algorithm step by step, quirks included: a link to a missing node is reported on the *linking*
node as `exception_during_inner_validation`, one valid output among invalid ones still gives 200
with `node_errors`, and LoadImage skips its combo check in favour of a file-exists check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from nuke_comfyui.sim.catalog import Catalog
from nuke_comfyui.sim.files import Folders

Reason = Dict[str, Any]
Result = Tuple[bool, List[Reason], str]


@dataclass
class Verdict:
    """Outcome of validating one prompt (error is None when at least one output is runnable)."""

    error: Optional[Dict[str, Any]]
    good_outputs: List[str] = field(default_factory=list)
    node_errors: Dict[str, Any] = field(default_factory=dict)


def _error(kind: str, message: str, details: str = "") -> Dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def _types_match(received: Any, wanted: Any) -> bool:
    if received == "*" or wanted == "*":
        return True
    if isinstance(received, str) and isinstance(wanted, str):
        if received == wanted:
            return True
        return bool(set(received.split(",")) & set(wanted.split(",")))
    return received == wanted


class _Validator:
    """One validation pass; `validated` memoises results per node like ComfyUI does."""

    def __init__(self, prompt: Dict[str, Any], catalog: Catalog, folders: Folders) -> None:
        self.prompt = prompt
        self.catalog = catalog
        self.folders = folders
        self.validated: Dict[str, Result] = {}

    def node(self, unique_id: str) -> Result:
        if unique_id in self.validated:
            return self.validated[unique_id]
        node = self.prompt[unique_id]
        inputs = node.get("inputs", {})
        class_type = node["class_type"]
        errors: List[Reason] = []
        valid = True
        for name, category, input_type, extra in self.catalog.input_spec(class_type, inputs):
            info = [input_type, extra]
            if name not in inputs:
                if category == "required":
                    errors.append(
                        {
                            "type": "required_input_missing",
                            "message": "Required input is missing",
                            "details": f"{name}",
                            "extra_info": {"input_name": name},
                        }
                    )
                continue
            val = inputs[name]
            if isinstance(val, list):
                ok = self._linked(name, val, input_type, info, errors)
                valid = valid and ok
                continue
            self._value(
                class_type,
                name,
                val,
                input_type=input_type,
                extra=extra,
                info=info,
                inputs=inputs,
                errors=errors,
            )
        if class_type in ("LoadImage", "LoadImageMask") and "image" in inputs and not isinstance(inputs["image"], list):
            image = str(inputs["image"])
            path = self.folders.annotated_path(image)
            if path is None or not path.is_file():
                errors.append(
                    {
                        "type": "custom_validation_failed",
                        "message": "Custom validation failed for node",
                        "details": f"image - Invalid image file: {image}",
                        "extra_info": {"input_name": "image"},
                    }
                )
        result: Result = (False, errors, unique_id) if errors or not valid else (True, [], unique_id)
        self.validated[unique_id] = result
        return result

    def _linked(self, name: str, val: list, input_type: Any, info: list, errors: List[Reason]) -> bool:
        """Check a `[node_id, slot]` link; False when the linked node is invalid."""
        if len(val) != 2:
            errors.append(
                {
                    "type": "bad_linked_input",
                    "message": "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                    "details": f"{name}",
                    "extra_info": {"input_name": name, "input_config": info, "received_value": val},
                }
            )
            return True
        o_id = val[0]
        # A KeyError here (link to a missing node) propagates to the caller's inner-validation
        # handler, exactly like ComfyUI, which is why the error lands on the linking node.
        o_class_type = self.prompt[o_id]["class_type"]
        received_type = self.catalog.return_types(o_class_type)[val[1]]
        if not _types_match(received_type, input_type):
            errors.append(
                {
                    "type": "return_type_mismatch",
                    "message": "Return type mismatch between linked nodes",
                    "details": f"{name}, received_type({received_type}) mismatch input_type({input_type})",
                    "extra_info": {
                        "input_name": name,
                        "input_config": info,
                        "received_type": received_type,
                        "linked_node": val,
                    },
                }
            )
            return True
        try:
            inner = self.node(o_id)
        except (KeyError, IndexError, TypeError) as exc:
            self.validated[o_id] = (
                False,
                [
                    {
                        "type": "exception_during_inner_validation",
                        "message": "Exception when validating inner node",
                        "details": str(exc),
                        "extra_info": {
                            "input_name": name,
                            "input_config": info,
                            "exception_message": str(exc),
                            "exception_type": type(exc).__name__,
                            "traceback": ["<simulated traceback>"],
                            "linked_node": val,
                        },
                    }
                ],
                o_id,
            )
            return False
        return inner[0]

    def _value(
        self,
        class_type: str,
        name: str,
        val: Any,
        *,
        input_type: Any,
        extra: Dict[str, Any],
        info: list,
        inputs: Dict[str, Any],
        errors: List[Reason],
    ) -> None:
        """Convert and range/combo-check a literal input, appending ComfyUI's error on failure."""
        try:
            if isinstance(val, dict) and "__value__" in val:
                val = val["__value__"]
                inputs[name] = val
            if input_type == "INT":
                val = int(val)
                inputs[name] = val
            elif input_type == "FLOAT":
                val = float(val)
            elif input_type == "STRING":
                val = str(val)
            elif input_type == "BOOLEAN":
                val = bool(val)
        except (TypeError, ValueError, OverflowError) as exc:
            errors.append(
                {
                    "type": "invalid_input_type",
                    "message": f"Failed to convert an input value to a {input_type} value",
                    "details": f"{name}, {val}, {exc}",
                    "extra_info": {
                        "input_name": name,
                        "input_config": info,
                        "received_value": val,
                        "exception_message": str(exc),
                    },
                }
            )
            return
        if class_type in ("LoadImage", "LoadImageMask") and name == "image":
            return  # VALIDATE_INPUTS replaces the combo check (file check done by the caller)
        try:
            if "min" in extra and val < extra["min"]:
                errors.append(
                    {
                        "type": "value_smaller_than_min",
                        "message": "Value {} smaller than min of {}".format(val, extra["min"]),
                        "details": f"{name}",
                        "extra_info": {"input_name": name, "input_config": info, "received_value": val},
                    }
                )
                return
            if "max" in extra and val > extra["max"]:
                errors.append(
                    {
                        "type": "value_bigger_than_max",
                        "message": "Value {} bigger than max of {}".format(val, extra["max"]),
                        "details": f"{name}",
                        "extra_info": {"input_name": name, "input_config": info, "received_value": val},
                    }
                )
                return
        except TypeError:
            pass
        options = None
        if isinstance(input_type, list):
            options = input_type
        elif input_type == "COMBO":
            options = extra.get("options", [])
        elif input_type == "COMFY_DYNAMICCOMBO_V3":  # the option keys (their sub-inputs follow as name.sub)
            options = [o.get("key") for o in extra.get("options", []) if isinstance(o, dict)]
        if options is not None and val not in options:
            input_config: Any = info
            if len(options) > 20:
                list_info = f"(list of length {len(options)})"
                input_config = None
            else:
                list_info = str(options)
            errors.append(
                {
                    "type": "value_not_in_list",
                    "message": "Value not in list",
                    "details": f"{name}: '{val}' not in {list_info}",
                    "extra_info": {"input_name": name, "input_config": input_config, "received_value": val},
                }
            )


def validate_prompt(prompt: Dict[str, Any], catalog: Catalog, folders: Folders) -> Verdict:
    """Validate an API-format prompt against one server's node set and files."""
    outputs = []
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return Verdict(
                _error(
                    "invalid_prompt",
                    "Cannot execute because a node is missing the class_type property.",
                    f"Node ID '#{node_id}'",
                )
            )
        class_type = node["class_type"]
        if not catalog.has(class_type):
            return Verdict(
                _error(
                    "invalid_prompt",
                    f"Cannot execute because node {class_type} does not exist.",
                    f"Node ID '#{node_id}'",
                )
            )
        if catalog.is_output_node(class_type):
            outputs.append(node_id)
    if not outputs:
        return Verdict(_error("prompt_no_outputs", "Prompt has no outputs"))

    validator = _Validator(prompt, catalog, folders)
    good: List[str] = []
    failed: List[Tuple[str, List[Reason]]] = []
    node_errors: Dict[str, Any] = {}
    for out in outputs:
        try:
            ok, reasons, _ = validator.node(out)
        except (KeyError, IndexError, TypeError) as exc:
            ok = False
            reasons = [
                {
                    "type": "exception_during_validation",
                    "message": "Exception when validating node",
                    "details": str(exc),
                    "extra_info": {"exception_type": type(exc).__name__, "traceback": ["<simulated>"]},
                }
            ]
            validator.validated[out] = (False, reasons, out)
        if ok:
            good.append(out)
            continue
        if reasons:
            failed.append((out, reasons))
        for node_id, (node_ok, node_reasons, _) in validator.validated.items():
            if node_ok or not node_reasons:
                continue
            entry = node_errors.setdefault(
                node_id,
                {
                    "errors": node_reasons,
                    "dependent_outputs": [],
                    "class_type": prompt[node_id]["class_type"],
                },
            )
            if out not in entry["dependent_outputs"]:
                entry["dependent_outputs"].append(out)
    if not good:
        details = "\n".join(f"{r['message']}: {r['details']}" for _, rs in failed for r in rs)
        return Verdict(
            _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details),
            [],
            node_errors,
        )
    return Verdict(None, good, node_errors)
