"""`asset_references.yaml`: what a worker needs that may not be on the farm's shared storage.

AWS Deadline Cloud's job attachments upload the inputs a bundle lists, map them into each
session, and upload the outputs folder after each task, so a bundle written on a laptop runs on
a cloud farm. The format is deadline-cloud's (`job_bundle/submission.py`, `AssetReferences.to_dict`;
its Nuke submitter writes the same, `job_bundle_output_tests/*/expected_job_bundle/asset_references.yaml`):

    assetReferences:
      inputs: {directories: [...], filenames: [...]}
      outputs: {directories: [...]}
      referencedPaths: [...]

Inputs: the workflow, the input values file, the server settings file, the OCIO config and its
LUT folders, and each plate frame the render reads — unless the plate is on shared storage
(inside a shared server's `dir_local` or a folder given as shared), which every worker already
sees: it is then left out and the bundle says so. The output folder is the one output. Paths
inside a storage profile's SHARED locations are skipped by Deadline itself at submit, so
listing a file that turns out to be shared costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

from nuke_comfyui.core.frames import FrameSet
from nuke_comfyui.core.paths import PathMapping, is_absolute
from nuke_comfyui.core.render_request import RenderRequest
from nuke_comfyui.core.sequence_pattern import PatternError, SequencePattern
from nuke_comfyui.farm_bundle.colour import is_builtin_config, search_directories

FILE_NAME = "asset_references.yaml"


@dataclass
class AssetReferences:
    input_files: Set[str] = field(default_factory=set)
    input_directories: Set[str] = field(default_factory=set)
    output_directories: Set[str] = field(default_factory=set)
    referenced_paths: Set[str] = field(default_factory=set)
    shared: List[str] = field(default_factory=list)  # inputs left out because every worker sees them

    def to_data(self) -> Dict[str, Any]:
        """The document, keys and sorted lists as deadline-cloud writes them."""
        return {"assetReferences": {
            "inputs": {"directories": sorted(self.input_directories), "filenames": sorted(self.input_files)},
            "outputs": {"directories": sorted(self.output_directories)},
            "referencedPaths": sorted(self.referenced_paths),
        }}

    def summary(self) -> str:
        """One line for the artist: what the bundle carries and what it expects on shared storage."""
        text = (f"job attachments: {len(self.input_files)} input files, {len(self.input_directories)} input "
                f"folders, output {', '.join(sorted(self.output_directories)) or 'none'}")
        if self.shared:
            text += f"; on shared storage, not attached: {', '.join(self.shared)}"
        return text


def shared_roots(servers: Iterable[Any], extra: Iterable[str] = ()) -> List[str]:
    """Folders every worker sees: each shared-transfer server's `dir_local`, plus those given."""
    roots = [str(s.dir_local) for s in servers if getattr(s, "transfer", "") == "shared" and s.dir_local]
    return [r for r in [*roots, *extra] if r and is_absolute(r)]


def is_shared(path: str, roots: Iterable[str]) -> bool:
    """True when `path` lies inside one of `roots` (whole path components; Windows case-insensitive)."""
    return any(PathMapping(root, root).contains_local(path) for root in roots)


def collect(request: RenderRequest, *, values_file: Optional[str] = None, config: Optional[str] = None,
            ocio_config: Optional[str] = None, roots: Iterable[str] = ()) -> AssetReferences:
    """The asset references of one render's bundle."""
    roots = list(roots)
    refs = AssetReferences()
    for path in (request.workflow_path, values_file, config):
        if path:
            refs.input_files.add(path)
    if ocio_config and not is_builtin_config(ocio_config):
        refs.input_files.add(ocio_config)
        refs.input_directories.update(search_directories(ocio_config))
    refs.output_directories.add(request.output_dir)
    sequences = {"plate": request.input_pattern} if request.input_pattern else {}
    sequences.update({f"image input {node}": path for node, path in sorted((request.images or {}).items())})
    for what, pattern in sequences.items():
        if is_shared(pattern, roots):
            refs.shared.append(f"{what} {pattern}")  # the InputPattern parameter still names it (referenced)
        else:
            refs.input_files.update(_sequence_files(pattern, request.frames))
    return refs


def _sequence_files(pattern: str, frames: Optional[str]) -> List[str]:
    """Each frame's file of a sequence pattern (a still image when the path has no placeholder)."""
    try:
        sequence = SequencePattern.parse(pattern)
    except PatternError:
        return [pattern]
    if not frames:
        return [sequence.path_for(frame) for frame in sequence.existing_frames()] or [pattern]
    return [sequence.path_for(frame) for frame in FrameSet.parse(frames)]
