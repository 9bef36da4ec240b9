"""Hand renders to a studio farm manager as Open Job Description (OpenJD) job bundles.

`template` describes a render request as an OpenJD job template (data, adjusted by small
functions), `bundle` writes it in AWS Deadline Cloud's bundle layout, and `task` is what each
farm task runs: `nuke-comfyui render` for one chunk of frames of a group whose id, seeds and
output names were fixed when the bundle was written. Pure Python: no nuke, no Qt.
"""
