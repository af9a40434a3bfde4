"""`bench/bench_debate.py` through the real `howl run`, small: two cards and a storm of four.

Figures are not checked (they belong to the machine); what is: every alert ends in
its decision card after all five calls, every storm incident in its package, and
the fake model never saw more calls at once than the provider's concurrency.
"""

from __future__ import annotations

from pathlib import Path

from bench.bench_debate import CALLS_PER_DEBATE, through_howl
from bench.debate_world import CONCURRENCY, Model


async def test_the_bench_measures_a_card_and_a_storm_through_howl_run(tmp_path: Path) -> None:
    model = Model(latency_s=0.05)
    cards, crowd = await through_howl(tmp_path, model, samples=1, storm_size=4)
    for card in (*cards.quiet, cards.busy):
        assert 0 < card.first_call_s < card.last_answer_s < card.total_s
        assert card.model_s >= 4 * model.latency_s
        assert card.incident_card_s < card.total_s, "the decision card replies to it"
    assert crowd.statuses == {"completed": 4}
    # the storm ends at Howl's own record of the last run's move: never before one
    # debate's four model calls could have been answered
    assert crowd.elapsed_s >= 4 * model.latency_s
    assert 1 <= crowd.max_concurrent <= CONCURRENCY
    assert len(model.asked) == (2 + 4) * CALLS_PER_DEBATE
