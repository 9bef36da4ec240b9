#!/usr/bin/env bash
# The main job on the embedded default: a simulated ComfyUI cluster, rendered through the real scheduler.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/nuke-comfyui demo "$@"
