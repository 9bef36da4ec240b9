"""A journal that cannot be written, met in a Nuke session (issue 28, item 2).

Before: `Scheduler.halted` was turned into a message only by the command line's `wait()`. In Nuke the
node kept saying "running: 4/30 done" for ever, and every later Render in the session was queued and
never sent. Now the node's status says it once with Nuke's fix (free space, then Retry on the node),
the Script Editor gets the line once, Retry while the journal is still not writable says so in the
message box, and Retry once it is writable sends the rest in this session — nothing rendered twice.
`nuke -t` ends that node's run with the command line's line (`nuke-comfyui resume <group>`).

The disk fills as sqlite sees it (`PRAGMA max_page_count` on the session journal's one connection:
"database or disk is full"); `PRAGMA query_only` stands for a journal still not writable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nuke
import pytest

from nuke_comfyui.core.journal import Journal, default_journal_path
from nuke_comfyui.core.scheduler import Scheduler
from nuke_comfyui.host import callbacks, headless, job_state, knobs
from nuke_comfyui.host.session import get_session

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FRAMES = 30


def pragma(journal: Journal, statement: str) -> None:
    with journal._lock:
        journal._conn().execute(statement)


def fill_after_submit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal's disk is full from just after the group is journaled (before its first dispatch)."""
    submit_plan = Scheduler.submit_plan

    def submit_then_fill(self: Scheduler, *args: Any, **kwargs: Any) -> str:
        group_id = submit_plan(self, *args, **kwargs)
        with self.journal._lock:
            pages = self.journal._conn().execute("PRAGMA page_count").fetchone()[0]
        pragma(self.journal, f"PRAGMA max_page_count = {pages + 1}")
        return group_id

    monkeypatch.setattr(Scheduler, "submit_plan", submit_then_fill)


@pytest.fixture()
def farm(sim_cluster: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    cluster = sim_cluster(2, seconds_per_step=0.002)
    servers = [{"name": f"gpu{i + 1}", "host": "127.0.0.1", "port": port} for i, port in enumerate(cluster.ports)]
    monkeypatch.setenv("NUKE_COMFYUI_SERVERS", json.dumps(servers))
    monkeypatch.setenv("NUKE_COMFYUI_POLL_INTERVAL", "0.2")
    monkeypatch.setenv("NUKE_COMFYUI_DATA_DIR", str(tmp_path / "data"))
    return cluster


def comfy_node(tmp_path: Path) -> Any:
    node = nuke.createNode(knobs.NODE_CLASS, inpanel=False)
    node[knobs.WORKFLOW].setValue(str(ROOT / "examples" / "invert.json"))
    node["frame_range_mode"].setValue("custom")
    node["custom_frames"].setValue(f"1-{FRAMES}")
    node["output_dir"].setValue(str(tmp_path / "renders"))
    node.setInput(0, nuke.nodes.Constant())
    return node


def rendered(cluster: Any) -> int:
    return sum(len(server.executions) for server in cluster.servers)


def test_the_node_says_it_once_with_the_fix_and_retry_finishes_it(farm: Any, tmp_path: Path, pump: Any,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: Any) -> None:
    node = comfy_node(tmp_path)
    node.setSelected(True)
    fill_after_submit(monkeypatch)
    callbacks.render_selected()
    scheduler = get_session().farm.scheduler
    journal = get_session().farm.journal
    group_id = job_state.load(node).group_id

    def node_caught_up() -> bool:  # settled first, then the node's last status event is pumped
        line = f"halted: {scheduler.view(group_id).done}/{FRAMES} done (journal not writable)"
        return scheduler.settled(group_id) and str(node["status"].value()).startswith(line + "\n")

    pump(node_caught_up, 30.0)
    status = str(node["status"].value()).splitlines()
    done = scheduler.view(group_id).done
    assert status[0] == f"halted: {done}/{FRAMES} done (journal not writable)" and done < FRAMES
    assert status[1] == (f"the job journal {journal.path} cannot be written (database or disk is full), so no new "
                         f"work was sent; free space in {journal.path.parent} (or make it writable), then press "
                         "'Retry failed' on this node to send the rest")
    assert str(node["status_label"].value()).startswith("halted: ")  # what the Node Graph shows
    for _ in range(10):
        nuke._fake_pump(timeout=0.05)  # later events (the last results collected) say nothing new
    said = [line for line in capsys.readouterr().out.splitlines() if "cannot be written" in line]
    assert said == [f"nuke-comfyui {node.fullName()}: {status[1]}"]  # the Script Editor, once

    pragma(journal, "PRAGMA query_only = ON")  # Retry before anything was freed
    sent = rendered(farm)
    callbacks.retry_selected()
    [message] = nuke._fake_state().messages
    assert message.startswith(f"ComfyUI retry {node.fullName()}: the job journal {journal.path} cannot be written (")
    assert message.endswith(f"free space in {journal.path.parent} (or make it writable), then press 'Retry "
                            "failed' again")
    assert str(node["status"].value()).startswith("not retried: journal not writable\n")
    assert rendered(farm) == sent

    pragma(journal, "PRAGMA query_only = OFF")  # space again
    pragma(journal, f"PRAGMA max_page_count = {2**30}")
    callbacks.retry_selected()
    assert len(nuke._fake_state().messages) == 1  # no new message: it went on
    pump(lambda: str(node["status"].value()).startswith("completed: "), 60.0)
    assert str(node["status"].value()).splitlines() == [f"completed: {FRAMES}/{FRAMES} done"]
    assert rendered(farm) == FRAMES  # nothing twice
    read = nuke.toNode(f"{node.name()}_var01")
    assert read is not None and all(Path(str(read["file"].value()) % f).is_file() for f in range(1, FRAMES + 1))


def test_headless_ends_the_nodes_run_with_the_resume_line_and_cancels_nothing(
        farm: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    comfy_node(tmp_path)
    script = tmp_path / "shot.nk"
    nuke.scriptSaveAs(str(script), 1)
    fill_after_submit(monkeypatch)
    nuke._fake_reset(gui=False)
    nuke._fake_run_as_terminal([headless.__file__, str(script), "--no-save", "--poll", "0.05"])
    code = headless.main()
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if "cannot be written" in line]
    journal_path = default_journal_path()  # the session journal in NUKE_COMFYUI_DATA_DIR
    assert line.startswith(f"[nuke-comfyui] ComfyRender1: the job journal {journal_path} cannot be written "
                           "(database or disk is full), so no new work was sent; free space in ")
    group = line.rsplit("`nuke-comfyui resume ", 1)[1].split("`")[0]
    assert code in (1, 2) and out.rstrip().endswith(f"(exit {code})")
    with Journal(journal_path) as journal:  # not cancelled: `resume` can finish it
        assert journal.group(group).state not in ("cancelled", "completed")
