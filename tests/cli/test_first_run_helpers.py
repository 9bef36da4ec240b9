"""Small first-run helpers: where the example workflows are, and a dead default server's hint."""

from __future__ import annotations

import pytest

from nuke_comfyui.core.errors import WorkflowError
from nuke_comfyui.core.examples import CHECKOUT_DIR, example_path, example_workflow


def test_examples_are_found_in_the_package_or_the_checkout() -> None:
    assert example_path("img2img.json") == CHECKOUT_DIR / "img2img.json"  # a checkout has no package copy
    assert example_workflow("txt2img_variations.json").is_file()
    with pytest.raises(WorkflowError, match="reinstall nuke-comfyui"):
        example_workflow("no_such_example.json")


def test_a_dead_default_server_says_nothing_is_configured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With no server configured the loader tries 127.0.0.1:8188; when that is dead the hint says why."""
    import json

    from nuke_comfyui.cli.farm_session import NOTHING_CONFIGURED, nothing_configured
    from nuke_comfyui.core.config_loader import load_config

    assert nothing_configured(load_config(environ={"NUKE_COMFYUI_CONFIG": str(tmp_path / "none.json")}))
    settings = tmp_path / "servers.json"
    settings.write_text(json.dumps({"servers": [{"name": "gpu01", "port": 8188}]}))
    assert not nothing_configured(load_config(settings, environ={}))
    assert "no servers are configured" in NOTHING_CONFIGURED and "demo --sim" in NOTHING_CONFIGURED
