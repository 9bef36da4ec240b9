"""The redaction helper: every form of a configured secret is masked, and excerpts are cut after masking."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from nuke_comfyui.core import redact
from nuke_comfyui.core.comfy.outputs import failure_from_error
from nuke_comfyui.core.errors import ServerError


@pytest.fixture(autouse=True)
def _clean() -> Any:
    redact.forget_all()
    yield
    redact.forget_all()


def test_bearer_header_registers_the_token_and_the_header() -> None:
    redact.register_headers({"Authorization": "Bearer abcd-1234-token"})
    assert redact.redact("got Authorization: Bearer abcd-1234-token ok") == "got Authorization: *** ok"
    assert redact.redact("token=abcd-1234-token") == "token=***"


def test_basic_header_registers_the_base64_the_pair_and_the_password() -> None:
    blob = base64.b64encode(b"artist:pa55word!").decode()
    redact.register_headers({"Authorization": f"Basic {blob}"})
    assert redact.redact(f"header Basic {blob}") == "header ***"
    assert redact.redact(f"raw {blob}") == "raw ***"
    assert redact.redact("user artist:pa55word! here") == "user *** here"
    assert redact.redact("pw=pa55word!") == "pw=***"


def test_short_values_and_other_headers_are_not_secrets() -> None:
    redact.register_headers({"Authorization": "Bearer abc", "Accept": "application/json"})
    assert redact.redact("abc application/json") == "abc application/json"


def test_excerpt_masks_before_it_cuts() -> None:
    secret = "s" * 30 + "-token"
    redact.register_secret(secret)
    text = "x" * 190 + secret + "y" * 100
    cut = redact.excerpt(text)
    assert cut == "x" * 190 + "***" + "y" * 7 + "..."
    assert "sss" not in cut


def test_server_errors_execution_errors_and_logs_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    redact.register_secret("very-secret-value")
    assert str(ServerError("echo very-secret-value", "gpu1")) == "gpu1: echo ***"
    failure = failure_from_error({"exception_message": "bad header very-secret-value", "node_id": "3"})
    assert failure.message == "bad header ***"
    with caplog.at_level(logging.INFO):
        logging.getLogger("nuke_comfyui.test").info("sent %s", "very-secret-value")
    assert caplog.records[-1].getMessage() == "sent ***"

