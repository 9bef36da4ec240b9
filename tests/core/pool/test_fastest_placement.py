"""Where `fastest` sends a whole group's jobs, in virtual time (placement_model.py): deterministic,
so the placement is checked, never the machine's speed."""

from __future__ import annotations

import pytest
from placement_model import run_group

CHUNK_S, SEND_S = 0.8, 0.3  # bench --temporal: 16 frames x 40 ms plus the node's overhead; staging 16 frames


def test_eight_chunks_on_four_equal_servers_run_two_each() -> None:
    """bench --temporal's shot: 100 frames in chunks of 16, overlap 4 = 8 chunks on 4 servers. Before
    fastest counted what running chunks had done, the first server measured took 3 while another
    ran 1 (3.33 s against round-robin's 2.01 s); each now runs 2."""
    makespan, spread = run_group([1, 1, 1, 1], [CHUNK_S] * 8, SEND_S)
    assert spread == [2, 2, 2, 2]
    assert makespan == pytest.approx(2 * SEND_S + 2 * CHUNK_S)  # one wave after another, nothing stranded
    _, blind = run_group([1, 1, 1, 1], [CHUNK_S] * 8, SEND_S, head_start=False)
    assert blind[0] == 3  # the model shows the old pile-up when running jobs' progress is hidden


def test_jittered_chunks_are_not_piled_on_the_first_server_to_finish() -> None:
    costs = [CHUNK_S * (1 + 0.05 * ((i * 7) % 5 - 2) / 2) for i in range(8)]  # within ±5 %
    assert run_group([1, 1, 1, 1], costs, SEND_S)[1] == [2, 2, 2, 2]
    assert run_group([1, 1, 1, 1], costs, SEND_S, head_start=False)[1][0] == 3


def test_chunks_still_favour_the_faster_servers() -> None:
    _, spread = run_group([1, 1, 2, 4], [CHUNK_S] * 8, SEND_S)
    assert spread == [4, 2, 1, 1]  # the speed-4 server takes half, each speed-1 server one


def test_frame_jobs_keep_their_tuned_placement() -> None:
    """The per-frame scenarios of bench --suite place as before: farm-12's best schedule gives each
    speed-1 server one job, and a long group spreads by speed."""
    for head_start in (True, False):
        _, spread = run_group([1, 1, 2, 4], [0.2] * 12, 0.002, head_start=head_start)
        assert spread == [7, 3, 1, 1]
        _, spread = run_group([1, 1, 2, 4], [0.2] * 120, 0.002, head_start=head_start)
        assert spread == [60, 30, 15, 15]
