# Sourced by scripts/setup.sh and scripts/test.sh: find interpreters, make cached virtual environments.
# Needs ROOT (the checkout). Functions print errors in full and return non-zero; they never exit.

VENV_CACHE="${NUKE_COMFYUI_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nuke-comfyui/venvs}"

# find_python X.Y -> prints the path of a Python X.Y interpreter, or explains what it tried and fails.
# $PYTHON3_9 (dots as underscores) when set, and then only that; else pyenv's versions folder,
# else pythonX.Y on PATH.
find_python() {
    local want="$1" var candidates=() root candidate got
    var="PYTHON${want//./_}"
    if [ -n "${!var:-}" ]; then
        got="$("${!var}" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
        [ "$got" = "$want" ] && { echo "${!var}"; return 0; }
        echo "ERROR: $var=${!var} is not a working Python $want (it reports '${got:-nothing}'); fix or unset it." >&2
        return 1
    fi
    for root in "$(pyenv root 2>/dev/null || true)" "${PYENV_ROOT:-}" "$HOME/.pyenv"; do
        [ -n "$root" ] || continue
        for candidate in "$root"/versions/"$want".*/bin/python"$want"; do
            [ -x "$candidate" ] && candidates+=("$candidate")
        done
    done
    candidate="$(command -v "python$want" 2>/dev/null || true)"
    [ -n "$candidate" ] && candidates+=("$candidate")
    for candidate in "${candidates[@]}"; do
        got="$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
        if [ "$got" = "$want" ]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "ERROR: no Python $want interpreter found (tried \$(pyenv root)/versions/$want.*," \
         "python$want on PATH${candidates[*]:+: ${candidates[*]}})." \
         "Install it (e.g. 'pyenv install $want') or set $var=/path/to/python$want." >&2
    return 1
}

# cached_venv NAME PYTHON EXTRAS -> prints the folder of a venv holding the requirements of EXTRAS
# (not the project: run the checkout with PYTHONPATH). It is reused while the interpreter and the
# requirement list are the same (the folder name carries their hash), so a fresh clone with an
# unchanged pyproject.toml installs nothing. Older venvs of the same NAME are removed.
cached_venv() {
    local name="$1" python="$2" extras="$3" requirements key dir log
    requirements="$("$python" "$ROOT/scripts/lib/requirements.py" "$ROOT/pyproject.toml" "$extras")" || return 1
    key="$({ "$python" -c 'import sys, platform; print(sys.version, sys.executable, platform.machine())'
             echo "$requirements"; } | sha1sum | cut -c1-12)"
    dir="$VENV_CACHE/$name-$key"
    mkdir -p "$VENV_CACHE"
    (
        flock 9   # one builder per venv, even for concurrent runs from several clones
        [ -f "$dir/.complete" ] && exit 0
        rm -rf "$dir"
        log="$VENV_CACHE/$name-$key.log"
        echo "==> $name: new venv ($("$python" --version 2>&1), $extras) in $dir" >&2
        if ! { "$python" -m venv "$dir" && echo "$requirements" > "$dir/requirements.txt" &&
               "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
                   -r "$dir/requirements.txt"; } > "$log" 2>&1; then
            echo "ERROR: could not make the $name venv with $python; pip said:" >&2
            cat "$log" >&2
            rm -rf "$dir"
            exit 1
        fi
        rm -f "$log"
        touch "$dir/.complete"
        for old in "$VENV_CACHE/$name"-*; do
            [ "$old" = "$dir" ] || [ ! -d "$old" ] || rm -rf "$old"
        done
    ) 9>"$VENV_CACHE/$name.lock" || return 1
    echo "$dir"
}
