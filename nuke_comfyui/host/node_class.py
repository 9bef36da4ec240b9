"""The Comfy node's class name, in a module of its own so init.py's hooks can name it without
importing the node code (host.knobs and what it pulls in) on every Nuke start-up."""

NODE_CLASS = "ComfyRender"
