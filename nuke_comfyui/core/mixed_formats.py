"""Results of one output that came back in two file formats, said in words.

The plan picks one result format for a render (a float EXR where every server has the float
saver). A server that lacks it when its job is sent (offline at submit, or downgraded mid-render)
still renders the job, with the workflow's own 8-bit PNG saver (core/pixels/server_fit.py). Those
frames then form a second sequence beside the planned one: a Read of their own, with holes where
the other has frames. Listing both sequences says where the files are; this says why, per
variation and output, so the artist knows which frames lost precision and on which server.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Dict, List, Sequence, Tuple

from nuke_comfyui.core.frames import frame_ranges
from nuke_comfyui.core.variation_names import variation_name


def _format(pattern: str) -> str:
    ext = os.path.splitext(pattern)[1].lower().lstrip(".")
    return {"png": "PNG", "exr": "EXR"}.get(ext, ext.upper() or "no extension")


def _by_output(sequences: Sequence[Any]) -> Dict[Tuple[int, str], List[Any]]:
    by_output: Dict[Tuple[int, str], List[Any]] = OrderedDict()
    for sequence in sequences:
        by_output.setdefault((sequence.variation, str(sequence.output_node)), []).append(sequence)
    return by_output


def _planned(group: Sequence[Any]) -> Any:
    """The sequence in the plan's format: the float one (only the float saver falls back), else the largest."""
    return max(group, key=lambda s: (_format(s.pattern) == "EXR", len(s.frames_done)))


def fallback_suffixes(sequences: Sequence[Any]) -> List[str]:
    """Per sequence (in order): '' when it is in its output's planned format, else its format in
    lower case ('png'), which tells its Read apart from the planned one's. One pass over the list:
    the host calls this on every refresh of a render's Reads."""
    planned = {key: _format(_planned(group).pattern) for key, group in _by_output(sequences).items()
               if len({_format(s.pattern) for s in group}) > 1}
    suffixes = []
    for sequence in sequences:
        expected = planned.get((sequence.variation, str(sequence.output_node)))
        mine = _format(sequence.pattern)
        suffixes.append("" if expected is None or mine == expected else mine.lower().replace(" ", "_"))
    return suffixes


def mixed_formats(sequences: Sequence[Any]) -> List[str]:
    """One line per sequence not in its output's planned format (another sequence of the same
    variation and output is): 'var01: frames 2,4 came back as PNG from gpu3, the rest as EXR ...'."""
    lines = []
    for (variation, node), group in _by_output(sequences).items():
        if len({_format(s.pattern) for s in group}) < 2:
            continue
        main = _planned(group)
        outputs = {str(s.output_node) for s in sequences if s.variation == variation}
        name = variation_name(variation) + (f" output {node}" if len(outputs) > 1 else "")
        for other in group:
            if other is main or not other.frames_done:
                continue
            servers = ", ".join(other.servers) or "a server"
            lines.append(f"{name}: frames {frame_ranges(other.frames_done)} came back as {_format(other.pattern)} "
                         f"from {servers}, the rest as {_format(main.pattern)} ({servers} lacked the planned "
                         "saver when the job was sent); they load as a Read of their own")
    return lines
