"""`python -m nuke_comfyui` is the same as the `nuke-comfyui` command."""

from nuke_comfyui.cli.main import entry

entry()
