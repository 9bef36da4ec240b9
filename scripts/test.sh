#!/usr/bin/env bash
# The whole test suite, from a fresh clone, on the Pythons and Qt bindings Nuke ships (CI runs exactly this):
#   lint            ruff, mypy, vermin (code must run on Python 3.9)            on Python 3.11
#   py3.9-pyside2   every test; Qt panels on PySide2 5.15 + pytest-qt 4.4      (Nuke 14)
#   py3.10-pyside2  every test; Qt panels on PySide2 5.15 + pytest-qt 4.4      (Nuke 15)
#   py3.11-pyside6  every test; Qt panels on PySide6 6.5 + pytest-qt 4.5       (Nuke 16)
#   wheel           build the wheel, install it as the README says (plain, then [sim,pyside6]) in a fresh venv,
#                   and run every command a new user meets from it (scripts/check_wheel.sh)
# Legs run in parallel (at most $TEST_JOBS at once, default 3) in venvs cached by the hash of their
# inputs under ~/.cache/nuke-comfyui/venvs (scripts/lib/venvs.sh); each leg's start is said, a
# heartbeat every HEARTBEAT_S (30) seconds names the legs running, and each leg's output is printed
# whole when it ends (less known third-party noise, counted), then a summary. Exit 0 only when
# every leg passed; a missing interpreter, a pytest run that collected nothing (exit 5) or a leg
# past its time limit is a failure.
# Arguments are passed to every pytest leg, e.g. scripts/test.sh tests/core -k seeds.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
# shellcheck source=scripts/lib/venvs.sh
source scripts/lib/venvs.sh
export QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
export NUKE_COMFYUI_DATA_DIR="${NUKE_COMFYUI_DATA_DIR:-$(mktemp -d)}"   # journal etc. never touch the user's folders
LOGS="$(mktemp -d)"
LEG_TIMEOUT="${TEST_LEG_TIMEOUT:-1500}"   # seconds; a leg still running then has failed
PYTEST_ARGS=("$@")

venv_for() {  # venv_for NAME X.Y EXTRAS -> venv folder (prints why not and fails)
    local python
    python="$(find_python "$2")" || return 1
    cached_venv "$1" "$python" "$3"
}

pytest_leg() {  # pytest_leg X.Y EXTRAS QT_API
    local venv code
    venv="$(venv_for "py$1-$3" "$1" "$2")" || return 1
    "$venv/bin/python" -c 'import sys, importlib.metadata as m
names = ("PySide2", "PySide6-Essentials", "pytest-qt", "pytest")
found = [(n, next((d.version for d in m.distributions(name=n)), None)) for n in names]
print("Python", sys.version.split()[0] + ",", ", ".join("%s %s" % (n, v) for n, v in found if v))'
    QT_API="$3" PYTHONPATH="$ROOT" "$venv/bin/python" -m pytest -q -p no:cacheprovider "${PYTEST_ARGS[@]}"
    code=$?
    [ "$code" -eq 5 ] && echo "FAILED: pytest collected no tests (exit 5)"
    return "$code"
}

lint_leg() {
    local venv
    venv="$(venv_for py3.11-pyside6 3.11 dev,pyside6)" || return 1
    echo "==> ruff";   "$venv/bin/python" -m ruff check . || return 1
    echo "==> mypy";   PYTHONPATH="$ROOT" "$venv/bin/python" -m mypy || return 1
    echo "==> vermin (code must run on Python 3.9, Nuke 14)"
    "$venv/bin/vermin" --no-tips --violations --eval-annotations --target=3.9- \
        nuke_comfyui env.py init.py menu.py
}

wheel_leg() {
    local python
    python="$(find_python 3.9)" || return 1
    bash scripts/check_wheel.sh "$python"
}

LEGS=(lint py3.9-pyside2 py3.10-pyside2 py3.11-pyside6 wheel)
run_leg() {
    case "$1" in
        lint) lint_leg ;;
        py3.9-pyside2) pytest_leg 3.9 test,pyside2 pyside2 ;;
        py3.10-pyside2) pytest_leg 3.10 test,pyside2 pyside2 ;;
        py3.11-pyside6) pytest_leg 3.11 dev,pyside6 pyside6 ;;
        wheel) wheel_leg ;;
    esac
}

start_leg() {
    ( start=$SECONDS
      timeout --kill-after=30 "$LEG_TIMEOUT" bash -c "$(declare -f); $(declare -p ROOT LOGS PYTEST_ARGS VENV_CACHE); run_leg $1" \
          > "$LOGS/$1.log" 2>&1 < /dev/null
      code=$?
      [ "$code" -eq 124 ] && echo "FAILED: still running after ${LEG_TIMEOUT}s (TEST_LEG_TIMEOUT)" >> "$LOGS/$1.log"
      echo "$((SECONDS - start))" > "$LOGS/$1.seconds"
      echo "$code" > "$LOGS/$1.rc" ) &
}

without_noise() {  # a leg's log without known third-party noise (said once, counted, never a failure hidden)
    awk '
        /^A module that was compiled using NumPy 1\.x cannot be run in/ { numpy = 1; hidden++; next }
        numpy { hidden++; if ($0 ~ /from (shiboken6\.Shiboken|\.shiboken2) import \*/) numpy = 0; next }
        /^Qt\.py \[warning\]: ImportError\(QtMultimedia(Widgets)?\): libpulse/ { pulse++; next }
        /^(Detecting python files\.\.|Analyzing [0-9]+ files using [0-9]+ processes\.\.|Incompatible versions: +2\.x)$/ { next }
        { print }
        END {
            if (hidden) printf "(%d lines hidden: PySide built against NumPy 1.x warns beside NumPy 2; harmless here)\n", hidden
            if (pulse) printf "(%d Qt.py warnings hidden: QtMultimedia needs libpulse, which the panels do not use)\n", pulse
        }'
}

report_finished() {  # print every leg that ended since the last call, whole (less known noise)
    local leg
    for leg in "${LEGS[@]}"; do
        if [ -f "$LOGS/$leg.rc" ] && [ ! -f "$LOGS/$leg.shown" ]; then
            echo "==================== $leg ($(cat "$LOGS/$leg.seconds") s, exit $(cat "$LOGS/$leg.rc")) ===================="
            without_noise < "$LOGS/$leg.log"
            touch "$LOGS/$leg.shown"
        fi
    done
}

heartbeat() {  # every HEARTBEAT_S seconds: which legs run and which are done, so a long run is never silent
    local leg running="" done=""
    [ $((SECONDS - last_beat)) -lt "${HEARTBEAT_S:-30}" ] && return
    last_beat=$SECONDS
    for leg in "${LEGS[@]}"; do
        if [ -f "$LOGS/$leg.rc" ]; then done="$done $leg"
        elif [ -f "$LOGS/$leg.started" ]; then running="$running $leg"; fi
    done
    echo "... $((SECONDS - total_start)) s: running${running:- nothing}; done${done:- none}"
}

wait_for_legs() {  # wait_for_legs N: until at most N legs run, reporting and beating meanwhile
    while [ "$(jobs -rp | wc -l)" -gt "$1" ]; do sleep 1; report_finished; heartbeat; done
}

echo "==> $((${#LEGS[@]})) legs: ${LEGS[*]} (at most ${TEST_JOBS:-3} at once; venvs in $VENV_CACHE)"
total_start=$SECONDS
last_beat=$SECONDS
for leg in "${LEGS[@]}"; do
    wait_for_legs "$(( ${TEST_JOBS:-3} - 1 ))"
    echo "==> $((SECONDS - total_start)) s: starting $leg"
    touch "$LOGS/$leg.started"
    start_leg "$leg"
done
wait_for_legs 0
wait
report_finished

passed=0 failed=0
echo "==================== summary ($((SECONDS - total_start)) s) ===================="
for leg in "${LEGS[@]}"; do
    code="$(cat "$LOGS/$leg.rc")"
    if [ "$code" -eq 0 ]; then passed=$((passed + 1)); status=passed; else failed=$((failed + 1)); status="FAILED (exit $code)"; fi
    printf '  %-16s %-18s %4s s\n' "$leg" "$status" "$(cat "$LOGS/$leg.seconds")"
done
rm -rf "$LOGS"
echo "legs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
