"""Dynamic prompts (`{red|blue|green}`) resolved per job, the way the frontend resolves them when it queues.

A text widget declared with `dynamicPrompts` (CLIPTextEncode's `text`, ...) is rewritten by the
frontend each time it queues (`processDynamicPrompt`): `/* ... */` and `// ...` comments are
removed (to the end of the line, also inside a URL: that is the frontend's rule), each `{a|b|c}`
becomes one of its choices (choices may nest: `{a {x|y}|b}`), `\\{`, `\\}` and `\\|` stand for
the characters themselves. The frontend draws each choice with `Math.random()`; here each draw
comes from a generator seeded by the job's seed, the node and the input, so a retry of a job (on
any server) reproduces its text and the variations of a render differ.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any, Dict, List, Tuple

COMMENTS = re.compile(r"/\*[\s\S]*?\*/|//.*")
ESCAPED = re.compile(r"\\([{}|])")
MARK_KEY = "dynamic_prompts"  # the list of input names in a node's private marks (see ui_convert.marks)


def resolve(text: str, seed: int, where: str = "") -> str:
    """`text` with comments removed and every `{a|b}` choice made, reproducibly for (seed, where)."""
    digest = hashlib.sha256(f"{seed}\x00{where}".encode()).digest()
    return _process(text, random.Random(int.from_bytes(digest[:8], "big")))


def _process(text: str, rng: random.Random) -> str:
    """One pass of the frontend's `processDynamicPrompt` (a chosen option goes through it again)."""
    text = COMMENTS.sub("", text)
    out: List[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if char == "\\" and index <= len(text):
            out.append("\\" + text[index:index + 1])
            index += 1
        elif char == "{":
            choices, index = _choice_block(text, index)
            out.append(_process(rng.choice(choices), rng))
        else:
            out.append(char)
    return ESCAPED.sub(r"\1", "".join(out))


def _choice_block(text: str, index: int) -> Tuple[List[str], int]:
    """The choices of the block opened just before `index`, and the index after its closing brace."""
    choices: List[str] = []
    current: List[str] = []
    depth = 0
    while index < len(text):
        char = text[index]
        index += 1
        if char == "\\":
            current.append("\\" + text[index:index + 1])
            index += 1
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if not depth:
                break
            depth -= 1
        elif char == "|" and not depth:
            choices.append("".join(current))
            current = []
            continue
        current.append(char)
    choices.append("".join(current))
    return choices, index


def texts(prompt: Dict[str, Dict[str, Any]]) -> Dict[str, str]:
    """{"node.input": text} of every marked dynamic-prompt input that holds text."""
    from nuke_comfyui.core.ui_convert import marks

    return {f"{node_id}.{name}": node["inputs"][name] for node_id, node in prompt.items()
            for name in marks.get(node, MARK_KEY) or () if isinstance(node.get("inputs", {}).get(name), str)}


def for_job(request: Any, frame: Any, seed: int) -> Dict[str, str]:
    """{"node.input": resolved text} a job of `request` was sent (its frame's text, its seed), for its details."""
    values = request.values_for(frame) if hasattr(request, "values_for") else {}
    found: Dict[str, str] = {}
    for key, text in (getattr(request, "dynamic_prompts", None) or {}).items():
        current = values.get(key, text)
        if isinstance(current, str):
            found[key] = resolve(current, seed, key)
    return found


def resolve_prompt(prompt: Dict[str, Dict[str, Any]], seed: int) -> Dict[str, str]:
    """Resolve, in place, every input a conversion marked as dynamic; returns {"node.input": text} of those
    whose text changed (what the Job Results details show)."""
    from nuke_comfyui.core.ui_convert import marks

    changed: Dict[str, str] = {}
    for node_id, node in prompt.items():
        for name in marks.get(node, MARK_KEY) or ():
            value = node.get("inputs", {}).get(name)
            if isinstance(value, str):
                resolved = resolve(value, seed, f"{node_id}.{name}")
                node["inputs"][name] = resolved
                if resolved != value:
                    changed[f"{node_id}.{name}"] = resolved
    return changed
