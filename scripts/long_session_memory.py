"""Long-session memory benchmark: N groups of M jobs rendered one after another in one process.

A Nuke session lives for days, so finished groups, their timers and the scheduler's indexes
must not grow with every render. This renders `--groups` groups of `--jobs` jobs each on three
in-memory ComfyUI look-alikes (the scheduler unit tests' fakes, instant prompts) and prints,
after each group, the traced Python memory and the sizes of the scheduler's collections.
It prints figures only; it asserts nothing (performance is never a timed test).

    .venv/bin/python scripts/long_session_memory.py --groups 50 --jobs 1000
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "core" / "scheduler")]

from scheduler_fakes import FakePool, FakeServer, FakeStream, Placement, fake_plan, frames  # noqa: E402

from nuke_comfyui.core.journal import Journal  # noqa: E402
from nuke_comfyui.core.pool.own_prompts import OwnPromptIds, TrackingClient  # noqa: E402
from nuke_comfyui.core.scheduler import Scheduler  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    servers = [FakeServer(f"s{i}", duration=0.0) for i in range(3)]
    pool = FakePool(servers)
    own = {s.name: OwnPromptIds() for s in servers}  # what the real pool remembers per server
    clients = {s.name: TrackingClient(pool.client(s.name), own[s.name]) for s in servers}
    pool.client = clients.__getitem__  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite3")
        scheduler = Scheduler(pool, journal, job_timeout=30.0, poll_interval=0.5, placement_factory=Placement,
                              stream_factory=lambda config, cb: FakeStream(pool.fakes[config.name], cb))
        scheduler.start()
        tracemalloc.start()
        print(f"{'group':>5} {'seconds':>8} {'traced MB':>10} {'peak MB':>8} {'groups':>6} {'timers':>6} "
              f"{'by_prompt':>9} {'occupying':>9} {'own ids':>8}")
        try:
            for n in range(1, args.groups + 1):
                started = time.monotonic()
                gid = scheduler.submit_plan(fake_plan(Path(tmp) / "out", frames(args.jobs), label=f"g{n}"))
                snap = scheduler.wait(gid, timeout=600)
                if snap.done != args.jobs:
                    print(f"group {n}: only {snap.done}/{args.jobs} completed ({snap.state.value})")
                del snap
                pool.durations.clear()  # the fake pool logs every duration; the real one keeps averages
                for server in servers:  # the fakes remember every prompt; a real server forgets
                    with server.lock:
                        server.history.clear()
                        server.submitted.clear()
                        server.deleted.clear()
                        server.interrupted.clear()
                time.sleep(0.05)  # let the dispatch loop release the settled group
                gc.collect()
                current, peak = tracemalloc.get_traced_memory()
                s = scheduler.state
                with s.lock:
                    sizes = (len(s.groups), len(s.timers), len(s.by_prompt), len(s.occupying))
                print(f"{n:5d} {time.monotonic() - started:8.2f} {current / 2**20:10.1f} {peak / 2**20:8.1f} "
                      f"{sizes[0]:6d} {sizes[1]:6d} {sizes[2]:9d} {sizes[3]:9d} {sum(map(len, own.values())):8d}",
                      flush=True)
        finally:
            scheduler.stop()
            for server in servers:
                server.close()
            journal.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
