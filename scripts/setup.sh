#!/usr/bin/env bash
# Create (or refresh) the project's virtual environments. Idempotent and quiet when nothing changed.
#   scripts/setup.sh            -> .venv          (runtime + simulator + dev tools + PySide6)
#   scripts/setup.sh --pyside2  -> also .venv-pyside2 (PySide2 5.13 + pytest-qt 4.4, for the second Qt leg)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

stamp() { cat pyproject.toml | sha1sum | cut -c1-16; }

make_venv() {  # make_venv DIR EXTRAS
    local dir="$1" extras="$2" want
    want="$(stamp)-${extras}"
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    echo "==> setting up $dir ($extras)"
    [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    "$dir/bin/python" -m pip install --quiet -e ".[${extras}]" 2>&1 | grep -v '^WARNING: Location' || true
    "$dir/bin/python" -c "import nuke_comfyui" # fails loudly if the install did not work
    echo "$want" > "$dir/.stamp"
}

make_venv .venv "dev,pyside6"
if [ "${1:-}" = "--pyside2" ]; then
    make_venv .venv-pyside2 "dev,pyside2"
fi
