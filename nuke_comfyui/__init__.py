"""nuke-comfyui: spread ComfyUI work over a cluster of ComfyUI servers, from Nuke, `nuke -t` or a shell.

Layers (dependencies point down): host (nuke) / ui (Qt) / cli  ->  core (pure Python)  ;  sim (test bed).
"""

__version__ = "0.1.0"
