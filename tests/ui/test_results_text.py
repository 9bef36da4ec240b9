"""The Job Results panel's words for a halted journal (ui/results_text.py): said once, taken back."""

from __future__ import annotations

from types import SimpleNamespace

from nuke_comfyui.ui.results_text import HaltNotices, group_summary


def group(halted: str = "") -> SimpleNamespace:
    return SimpleNamespace(group_id="g1", label="plate", state="running", done=3, failed=0, total=9,
                           eta_s=12.0, halted=halted or None)


def test_a_halt_is_said_once_per_halt_and_taken_back_when_the_journal_is_written_again() -> None:
    notices = HaltNotices()
    assert notices.change(group()) is None  # never halted: nothing to say
    notice = "the job journal /d/journal.sqlite cannot be written (disk full), so no new work was sent; free ..."
    assert notices.change(group(notice)) == ("", f"{notice}, then press Retry Failed to send the rest")
    assert notices.change(group(notice)) is None  # every later event of the same halt: nothing new
    assert notices.change(group()) == (f"{notice}, then press Retry Failed to send the rest", "")  # lifted
    assert notices.change(group(notice)) == ("", f"{notice}, then press Retry Failed to send the rest")  # halted again


def test_the_summary_line_says_halted_instead_of_running_and_drops_the_eta() -> None:
    assert group_summary(group()) == "plate · running · 3/9 done · ETA 12s"
    assert group_summary(group("x")) == "plate · halted (journal not writable) · 3/9 done"
