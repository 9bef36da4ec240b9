"""The `nuke-comfyui` command line: one module per subcommand, wired together in `main`."""
