"""Print the requirements of the project's extras, one per line, without building the project.

scripts/test.sh installs these into cached virtual environments (keyed by their hash) and runs the
checkout itself on PYTHONPATH, so one venv serves every clone and nothing is built per run.
Usage: python scripts/lib/requirements.py pyproject.toml test,pyside2
"""

from __future__ import annotations

import re
import sys
from typing import Any, Dict, List

try:
    import tomllib  # Python 3.11+
except ImportError:  # Python 3.9/3.10: pip (present in every venv) carries the same parser
    from pip._vendor import tomli as tomllib


def requirements(project: Dict[str, Any], extras: List[str]) -> List[str]:
    """Runtime dependencies plus each extra's, with `name[extra]` self-references expanded."""
    name = project["name"]
    optional = project.get("optional-dependencies", {})
    out: List[str] = list(project.get("dependencies", []))
    seen: List[str] = []
    todo = list(extras)
    while todo:
        extra = todo.pop(0)
        if extra in seen:
            continue
        if extra not in optional:
            raise SystemExit(f"requirements.py: no extra {extra!r} in pyproject.toml (have: {', '.join(optional)})")
        seen.append(extra)
        for requirement in optional[extra]:
            self_ref = re.match(rf"^{re.escape(name)}\[([^\]]+)\]$", requirement.strip())
            if self_ref:
                todo += [e.strip() for e in self_ref.group(1).split(",")]
            elif requirement not in out:
                out.append(requirement)
    return out


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(argv[0], "rb") as handle:
        project = tomllib.load(handle)["project"]
    print("\n".join(requirements(project, [e for e in argv[1].split(",") if e])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
