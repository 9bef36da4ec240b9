#!/usr/bin/env bash
# Create (or refresh) the developer's virtual environments. Idempotent; silent when nothing changed.
#   scripts/setup.sh            -> .venv          (python3: runtime + simulator + dev tools + PySide6 6.5,
#                                                  the package installed editable: .venv/bin/nuke-comfyui)
#   scripts/setup.sh --pyside2  -> also .venv-pyside2 (Python 3.10 + PySide2 5.15 + pytest-qt 4.4, as in Nuke 15)
# pip's output goes to <venv>/setup.log and is printed in full only when something fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-python3}"
# shellcheck source=scripts/lib/venvs.sh
source scripts/lib/venvs.sh

project_hash() {  # the part of pyproject.toml that decides what is installed
    awk '/^\[tool\./ {exit} {print}' pyproject.toml | sha1sum | cut -c1-16
}

make_venv() {  # make_venv DIR PYTHON EXTRAS
    local dir="$1" python="$2" extras="$3" want
    want="$(project_hash)-$("$python" --version 2>&1)-${extras}"
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    echo "==> setting up $dir ($("$python" --version 2>&1), $extras)"
    if [ -x "$dir/bin/python" ] && [ "$("$dir/bin/python" --version 2>&1)" != "$("$python" --version 2>&1)" ]; then
        rm -rf "$dir"   # another interpreter: start over
    fi
    [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
    if ! "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[${extras}]" \
            > "$dir/setup.log" 2>&1; then
        echo "ERROR: installing nuke-comfyui[$extras] into $dir failed; pip said:" >&2
        cat "$dir/setup.log" >&2
        return 1
    fi
    "$dir/bin/python" -c "import nuke_comfyui" # fails loudly if the install did not work
    echo "$want" > "$dir/.stamp"
    echo "    ready: $dir/bin/nuke-comfyui"
}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    echo "ERROR: $PYTHON is missing or older than Python 3.9; set PYTHON=/path/to/python3.9-or-newer" >&2
    exit 1
fi
make_venv .venv "$PYTHON" "dev,pyside6"
if [ "${1:-}" = "--pyside2" ]; then
    make_venv .venv-pyside2 "$(find_python 3.10)" "test,pyside2"
fi
