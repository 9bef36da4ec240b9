"""`openjd run`, as if the job had been submitted from a Windows workstation.

On a farm, job parameters are checked and made absolute where the job is submitted (on the
artist's Windows machine `U:/shots/a.json` already is absolute), and each worker's session maps
the PATH parameters with the path-mapping rules. `openjd run` plays both parts on this Linux
machine, so it would first join `U:/shots/a.json` to the current folder. This wrapper keeps a
Windows-absolute PATH value as given (what the Windows submission would have sent) and changes
nothing else: the session, the mapping and the task are openjd-cli's own.

    python openjd_windows_submission.py run TEMPLATE -p Workflow=U:/... --path-mapping-rules file://RULES
"""

from __future__ import annotations

import sys
from pathlib import PureWindowsPath
from typing import Any, Dict

from openjd.cli import main
from openjd.cli._common import _job_from_template
from openjd.model import ParameterValue, ParameterValueType

_preprocess = _job_from_template.preprocess_job_parameters


def _as_submitted_on_windows(*, job_parameter_values: Dict[str, Any], **options: Any) -> Any:
    processed = _preprocess(job_parameter_values=job_parameter_values, **options)
    for name, raw in job_parameter_values.items():
        value = processed.get(name)
        if value is not None and value.type == ParameterValueType.PATH and PureWindowsPath(str(raw)).drive:
            processed[name] = ParameterValue(type=ParameterValueType.PATH, value=str(raw))
    return processed


if __name__ == "__main__":
    _job_from_template.preprocess_job_parameters = _as_submitted_on_windows  # type: ignore[assignment]
    sys.exit(main())
