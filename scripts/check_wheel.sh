#!/usr/bin/env bash
# A normal install works: build the wheel from the working tree, install it (non-editable) with the
# simulator extra into a fresh venv, and from a folder outside the checkout run `nuke-comfyui
# status --json` and a render of two seed variations on a simulated cluster started by the
# installed package itself. Usage: scripts/check_wheel.sh [PYTHON] (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${1:-python3}"
WORK="$(mktemp -d)"
SIM_PID=""
cleanup() {  # stop the simulator we started, remove the scratch folder, keep the script's exit code
    local code=$?
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    exit "$code"
}
trap cleanup EXIT
quietly() {  # run a command; print its output in full only when it fails
    if ! "$@" > "$WORK/step.log" 2>&1; then
        echo "FAILED: $*"; cat "$WORK/step.log"; return 1
    fi
}

echo "==> build the wheel (from a copy of the working tree: tracked and new files, not ignored ones)"
mkdir -p "$WORK/src"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$WORK/src" 2>/dev/null || true
quietly "$PYTHON" -m venv "$WORK/build-venv"
quietly "$WORK/build-venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$WORK/src"
WHEEL="$(ls "$WORK"/dist/nuke_comfyui-*.whl)"
echo "    $(basename "$WHEEL")"
for member in nuke_comfyui/core/env.py nuke_comfyui/sim/data/object_info.json nuke_comfyui/py.typed; do
    "$PYTHON" -c "import sys, zipfile; sys.exit('$member' not in zipfile.ZipFile(sys.argv[1]).namelist())" "$WHEEL" \
        || { echo "FAILED: the wheel lacks $member"; exit 1; }
done

echo "==> install it into a fresh venv ($("$PYTHON" --version 2>&1))"
quietly "$PYTHON" -m venv "$WORK/venv"
quietly "$WORK/venv/bin/python" -m pip install --quiet "${WHEEL}[sim]"
BIN="$WORK/venv/bin"
cd "$WORK"   # nothing of the checkout on sys.path from here on
"$BIN/python" -c "import sys, nuke_comfyui; f = nuke_comfyui.__file__; print('    imports', f); sys.exit(f.startswith(sys.argv[1]))" "$ROOT" \
    || { echo "FAILED: nuke_comfyui was imported from the checkout, not the installed wheel"; exit 1; }

echo "==> nuke-comfyui sim (from the wheel), status --json, render"
"$BIN/nuke-comfyui" sim --servers 2 --port 0 --speeds 1,2 --base-dir "$WORK/sim" > "$WORK/sim.out" 2> "$WORK/sim.err" &
SIM_PID=$!
for _ in $(seq 100); do
    [ "$(grep -c '^http://127.0.0.1:' "$WORK/sim.out" 2>/dev/null)" -ge 2 ] && break
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
done
mapfile -t URLS < <(grep '^http://127.0.0.1:' "$WORK/sim.out" | head -2)
if [ "${#URLS[@]}" -ne 2 ]; then
    echo "FAILED: the simulator did not print two server URLs within 10 s"; cat "$WORK/sim.out" "$WORK/sim.err"; exit 1
fi
export NUKE_COMFYUI_SERVERS="[{\"name\": \"sim1\", \"url\": \"${URLS[0]}\"}, {\"name\": \"sim2\", \"url\": \"${URLS[1]}\"}]"
export HOME="$WORK/home" NUKE_COMFYUI_DATA_DIR="$WORK/data"   # never the user's settings or journal
unset NUKE_COMFYUI_CONFIG
"$BIN/nuke-comfyui" status --json > "$WORK/status.json" 2> "$WORK/step.log" \
    || { echo "FAILED: nuke-comfyui status --json"; cat "$WORK/status.json" "$WORK/step.log"; exit 1; }
"$BIN/python" -c "
import json, sys
servers = json.load(open(sys.argv[1]))
assert len(servers) == 2, servers
print('    status --json:', ', '.join('%s %s' % (s.get('name'), s.get('state')) for s in servers))" "$WORK/status.json" \
    || { echo "FAILED: status --json did not list two servers"; cat "$WORK/status.json" "$WORK/step.log"; exit 1; }
quietly timeout 120 "$BIN/nuke-comfyui" render "$ROOT/examples/txt2img_variations.json" --output "$WORK/out" \
    --variations 2 --seed-strategy golden --label wheel --json
count="$(find "$WORK/out" -name '*.png' | wc -l)"
[ "$count" -eq 2 ] || { echo "FAILED: expected 2 rendered PNGs, found $count"; cat "$WORK/step.log"; exit 1; }
echo "    rendered $count PNGs: $(find "$WORK/out" -name '*.png' -printf '%P ' )"
echo "wheel: 3 passed, 0 failed"
