"""The Nuke side of nuke-comfyui: the only package that imports `nuke` or `nukescripts`.

Modules: `knobs` (node -> RenderRequest), `inputs` (input frames onto disk), `job_state` (the hidden
JSON knob), `read_nodes` (results as Read nodes), `report` (status text), `main_thread` (handoff),
`watch` (scheduler events -> main thread), `session` (one Farm per Nuke process), `render`
(render/cancel/retry/attach by node name), `callbacks` (buttons and menu commands), `startup`
(init.py), `menu_setup` (menu.py), `headless` (`nuke -t`).
"""
