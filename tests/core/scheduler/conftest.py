"""Fixtures for the scheduler unit tests (the fakes live in scheduler_fakes.py)."""

from __future__ import annotations

from scheduler_fakes import make_harness

__all__ = ["make_harness"]
