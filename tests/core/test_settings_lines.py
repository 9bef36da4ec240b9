"""The line of a settings file's first problem, for the Settings pane that shows a broken file."""

from __future__ import annotations

import json

from nuke_comfyui.core.settings_lines import first_problem, line_of

TEXT = """{
 "servers": [
  {"name": "gpu1", "host": "10.0.0.5"},
  {
   "name": "gpu2",
   "port": "80a"
  }
 ],
 "poll_interval": -1
}
"""


def test_line_of_finds_values_and_keys_at_any_depth() -> None:
    assert line_of(TEXT, ["servers", 1, "port"]) == 6
    assert line_of(TEXT, ["servers", 0]) == 3
    assert line_of(TEXT, ["poll_interval"]) == 9
    assert line_of(TEXT, ["servers", 5]) is None


def test_first_problem_is_a_syntax_error_line_or_the_refused_value() -> None:
    assert first_problem('{\n "servers": [\n  {"name": "a",}\n ]\n}')[0] == 3  # type: ignore[index]
    line, what = first_problem(TEXT)  # type: ignore[misc]
    assert line == 6 and "integer" in what
    fixed = json.loads(TEXT)
    fixed["servers"][1]["port"] = 80
    line, what = first_problem(json.dumps(fixed, indent=1))  # type: ignore[misc]
    assert line == json.dumps(fixed, indent=1).splitlines().index(' "poll_interval": -1') + 1
    fixed["servers"][0]["colour"] = "red"  # an unknown key: its own line
    text = json.dumps(fixed, indent=1)
    assert first_problem(text)[0] == text.splitlines().index('   "colour": "red"') + 1  # type: ignore[index]
    del fixed["servers"][0]["colour"]
    fixed["poll_interval"] = 2
    assert first_problem(json.dumps(fixed)) is None
