"""bench.asr_bench's latency with processing time: a slow chunk delays those queued behind it."""

import pytest

from bench.asr_bench import processing_delays


def test_a_fast_pipeline_adds_only_each_chunks_own_time():
    starts = [0.0, 0.005, 0.010]  # 5 ms of CPU for each 30 ms chunk
    assert processing_delays(starts, 0.015, 0.03) == pytest.approx([0.005] * 3)


def test_a_slow_decode_delays_the_chunks_queued_behind_it():
    costs = [0.005, 0.2, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005]
    starts = [sum(costs[:k]) for k in range(len(costs))]
    delays = processing_delays(starts, sum(costs), 0.03)
    assert delays[1] == pytest.approx(0.2)  # the decoding chunk itself
    assert delays[2] == pytest.approx(0.2 - 0.03 + 0.005)  # waited behind it
    assert delays[-1] == pytest.approx(0.005)  # the queue has caught up
