#!/usr/bin/env bash
# A user's install works, exactly as the README tells it: build the wheel from the working tree,
# then in a fresh venv and a folder outside the checkout
#   1. `pip install nuke_comfyui-*.whl` (no extras): the commands that need an extra say which one,
#      in one line, exit 1 (no traceback);
#   2. `pip install 'nuke_comfyui-*.whl[sim,pyside6]'`: `sim`, `status --json`, a `render`, `demo`
#      (its example workflows come from the wheel), `screenshots`, `monitor` without a display
#      (one line, exit 1) and `bench --init-import` (needs the plugin folder: the checkout).
# Usage: scripts/check_wheel.sh [PYTHON] (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${1:-python3}"
WORK="$(mktemp -d)"
SIM_PID=""
PASSED=0
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
passed() { PASSED=$((PASSED + 1)); echo "    ok: $*"; }
refuses() {  # refuses WANT COMMAND...: exit 1 and a last stderr line containing WANT, no traceback
    local want="$1" code=0
    shift
    "$@" > "$WORK/out.log" 2> "$WORK/err.log" < /dev/null || code=$?
    if [ "$code" -ne 1 ] || ! tail -n 1 "$WORK/err.log" | grep -qF -- "$want" \
            || grep -q "^Traceback" "$WORK/err.log"; then
        echo "FAILED: $* (exit $code) should end with exit 1 and: $want"; cat "$WORK/out.log" "$WORK/err.log"; return 1
    fi
    passed "$(basename "$1") ${2:-} ${3:-}: $(tail -n 1 "$WORK/err.log" | cut -c1-110)"
}

echo "==> build the wheel (from a copy of the working tree: tracked and new files, not ignored ones)"
mkdir -p "$WORK/src"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$WORK/src" 2>/dev/null || true
quietly "$PYTHON" -m venv "$WORK/build-venv"
quietly "$WORK/build-venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$WORK/src"
WHEEL="$(ls "$WORK"/dist/nuke_comfyui-*.whl)"
echo "    $(basename "$WHEEL")"
for member in nuke_comfyui/core/env.py nuke_comfyui/sim/data/object_info.json nuke_comfyui/py.typed \
              nuke_comfyui/examples/img2img.json nuke_comfyui/examples/txt2img_variations.json; do
    "$PYTHON" -c "import sys, zipfile; sys.exit('$member' not in zipfile.ZipFile(sys.argv[1]).namelist())" "$WHEEL" \
        || { echo "FAILED: the wheel lacks $member"; exit 1; }
done

echo "==> pip install $(basename "$WHEEL")  (no extras; $("$PYTHON" --version 2>&1))"
quietly "$PYTHON" -m venv "$WORK/venv"
quietly "$WORK/venv/bin/python" -m pip install --quiet "$WHEEL"
BIN="$WORK/venv/bin"
cd "$WORK"   # nothing of the checkout on sys.path from here on
"$BIN/python" -c "import sys, nuke_comfyui; f = nuke_comfyui.__file__; print('    imports', f); sys.exit(f.startswith(sys.argv[1]))" "$ROOT" \
    || { echo "FAILED: nuke_comfyui was imported from the checkout, not the installed wheel"; exit 1; }
export HOME="$WORK/home" NUKE_COMFYUI_DATA_DIR="$WORK/data"   # never the user's settings or journal
unset NUKE_COMFYUI_CONFIG NUKE_COMFYUI_SERVERS DISPLAY WAYLAND_DISPLAY QT_QPA_PLATFORM
quietly "$BIN/nuke-comfyui" --help
refuses "pip install 'nuke-comfyui[sim]'" "$BIN/nuke-comfyui" sim --servers 1 --port 0
refuses "pip install 'nuke-comfyui[sim]'" "$BIN/nuke-comfyui" demo --output "$WORK/no-demo"
refuses "pip install 'nuke-comfyui[sim]'" "$BIN/nuke-comfyui" bench
refuses "pip install 'nuke-comfyui[pyside6]'" "$BIN/nuke-comfyui" monitor
refuses "pip install 'nuke-comfyui[sim,pyside6]'" "$BIN/nuke-comfyui" screenshots --out "$WORK/no-shots"

echo "==> pip install '$(basename "$WHEEL")[sim,pyside6]'"
quietly "$WORK/venv/bin/python" -m pip install --quiet "${WHEEL}[sim,pyside6]"

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
passed "sim: ${URLS[*]}"
export NUKE_COMFYUI_SERVERS="[{\"name\": \"sim1\", \"url\": \"${URLS[0]}\"}, {\"name\": \"sim2\", \"url\": \"${URLS[1]}\"}]"
"$BIN/nuke-comfyui" status --json > "$WORK/status.json" 2> "$WORK/step.log" \
    || { echo "FAILED: nuke-comfyui status --json"; cat "$WORK/status.json" "$WORK/step.log"; exit 1; }
"$BIN/python" -c "
import json, sys
servers = json.load(open(sys.argv[1]))
assert len(servers) == 2, servers
print('    ok: status --json:', ', '.join('%s %s' % (s.get('name'), s.get('state')) for s in servers))" "$WORK/status.json" \
    || { echo "FAILED: status --json did not list two servers"; cat "$WORK/status.json" "$WORK/step.log"; exit 1; }
PASSED=$((PASSED + 1))
quietly timeout 120 "$BIN/nuke-comfyui" render "$ROOT/examples/txt2img_variations.json" --output "$WORK/out" \
    --variations 2 --seed-strategy golden --label wheel --json
count="$(find "$WORK/out" -name '*.png' | wc -l)"
[ "$count" -eq 2 ] || { echo "FAILED: expected 2 rendered PNGs, found $count"; cat "$WORK/step.log"; exit 1; }
passed "render: $count PNGs: $(find "$WORK/out" -name '*.png' -printf '%P ' )"
kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=""
unset NUKE_COMFYUI_SERVERS

echo "==> demo, screenshots, monitor, bench --init-import (from the wheel)"
quietly timeout 180 "$BIN/nuke-comfyui" demo --output "$WORK/demo" --frames 4 --variations 2
grep -q "^results: " "$WORK/step.log" || { echo "FAILED: demo did not end with its results"; cat "$WORK/step.log"; exit 1; }
count="$(find "$WORK/demo/renders" -name '*.png' | wc -l)"
[ "$count" -eq 6 ] || { echo "FAILED: demo: expected 6 rendered PNGs, found $count"; cat "$WORK/step.log"; exit 1; }
passed "demo: $count PNGs with the wheel's example workflows"
quietly timeout 180 "$BIN/nuke-comfyui" screenshots --out "$WORK/shots"
count="$(find "$WORK/shots" -name '*.png' | wc -l)"
[ "$count" -eq 3 ] || { echo "FAILED: screenshots: expected 3 PNGs, found $count"; cat "$WORK/step.log"; exit 1; }
passed "screenshots: $count PNGs"
refuses "no display" "$BIN/nuke-comfyui" monitor
refuses "--plugin DIR" "$BIN/nuke-comfyui" bench --init-import
quietly "$BIN/nuke-comfyui" bench --init-import --plugin "$ROOT" --runs 3
passed "bench --init-import --plugin <checkout>: $(head -n 1 "$WORK/step.log" | cut -c1-100)"
echo "wheel: $PASSED passed, 0 failed"
