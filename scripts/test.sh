#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, lint, types, Python-3.9 syntax, tests on PySide6 and PySide2.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --pyside2
export QT_QPA_PLATFORM=offscreen
export NUKE_COMFYUI_DATA_DIR="${NUKE_COMFYUI_DATA_DIR:-$(mktemp -d)}"   # journal etc. never touch the user's folders
V=.venv/bin

echo "==> ruff";   $V/ruff check .
echo "==> mypy";   $V/mypy
echo "==> vermin (code must run on Python 3.9, Nuke 14)"
$V/vermin --no-tips --violations --eval-annotations --target=3.9- nuke_comfyui env.py init.py menu.py
echo "==> pytest (PySide6 leg: everything)"
QT_API=pyside6 $V/python -m pytest -q -p no:cacheprovider "$@"
echo "==> pytest (PySide2 5.13 leg: Qt panels)"
QT_API=pyside2 .venv-pyside2/bin/python -m pytest -q -p no:cacheprovider -m qt tests/ui
