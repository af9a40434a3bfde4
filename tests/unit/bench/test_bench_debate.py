"""The debate bench's pure parts: the schedule bound, the fake model's script, the rows."""

from __future__ import annotations

import pytest

from bench.bench_debate import CRITICAL_PATH_S, Cards, CardSample, Storm, rows_of
from bench.debate_world import ANSWERS, Model
from bench.embedded_debate import INCIDENTS, embedded_debates, realistic_snapshot
from bench.schedule import schedule_bound


def test_one_debate_takes_its_critical_path() -> None:
    assert schedule_bound(1, workers=8, slots=8, latency=1.0) == 4.0


def test_eight_debates_finish_the_furthest_first() -> None:
    # 40 calls would pack into 5 rounds; serving the debates furthest along first costs
    # one round here (the last Reviewer ‖ Critic pairs wait behind Coordinators)
    assert schedule_bound(8, workers=8, slots=8, latency=1.0) == 6.0


def test_one_worker_runs_debates_one_after_another() -> None:
    assert schedule_bound(3, workers=1, slots=8, latency=0.5) == 6.0


def test_a_storm_of_fifty_loses_a_little_to_its_tail() -> None:
    ideal = 50 * 5 / 8
    bound = schedule_bound(50, workers=16, slots=8, latency=1.0)
    assert ideal < bound < ideal / 0.9  # the tail costs, but less than a tenth
    # waiting counts (a call that waited one latency is a stage ahead): 250 calls in 32
    # rounds, the fewest 8 slots allow; by stage alone the last debates start late (33)
    assert bound == 32.0
    assert schedule_bound(50, workers=4, slots=8, latency=1.0) > bound, "too few workers"


@pytest.mark.parametrize("role", sorted(ANSWERS))
def test_the_fake_model_answers_each_role_after_its_latency(role: str) -> None:
    model = Model(latency_s=0.125)
    body = {"messages": [{"role": "system", "content": f"You are the {role}. Answer."}]}
    reply = model.by_role(body)
    assert reply.delay_s == 0.125 and reply.status == 200
    assert model.count(role) == 1 and model.fake.script is not None


def test_the_fake_model_refuses_a_prompt_it_has_no_answer_for() -> None:
    with pytest.raises(RuntimeError, match="no answer"):
        Model().by_role({"messages": [{"role": "system", "content": "You are a poet."}]})


def test_the_snapshots_are_valid_and_distinct() -> None:
    snapshots = [realistic_snapshot(i) for i in range(len(INCIDENTS))]
    assert len({s.title for s in snapshots}) == len(INCIDENTS)
    assert all(len(s.alerts) == 3 and s.knowledge and s.history for s in snapshots)


async def test_embedded_debates_all_conclude() -> None:
    times, statuses = await embedded_debates(8)
    assert len(times) == 8 and all(t > 0 for t in times)
    assert sum(statuses.values()) == 8 and set(statuses) <= {"completed", "degraded"}


def test_rows_report_each_figure_with_its_target() -> None:
    path = CRITICAL_PATH_S
    card = CardSample(total_s=path * 1.05, first_call_s=0.03, last_answer_s=path + 0.04,
                      incident_card_s=0.4)  # fmt: skip
    crowd = Storm(size=50, elapsed_s=7.0, max_concurrent=8, statuses={"completed": 50})
    busy = CardSample(total_s=1.05, first_call_s=0.03, last_answer_s=path + 0.04,
                      incident_card_s=1.0)  # fmt: skip
    rows = rows_of(Cards(quiet=[card] * 3, busy=busy), crowd, [3.0] * 98 + [60.0, 60.0])
    met = {row.figure: row.met for row in rows if row.target not in ("", "-")}
    assert met == {
        "alert to decision card, median of 3 (L = 0.2 s)": True,
        "  throughput against the ideal": False,  # 6.25 / 7.0 = 0.89
        "  fake model's most calls at once (provider limit 8)": True,
        "embedded engine, full debate p99": False,  # two slow debates in a hundred
    }
    shown = {row.figure: row.value for row in rows}
    assert shown["alert to decision card right after the publisher flushed"] == 1.05
    assert crowd.ideal_s == pytest.approx(6.25)
    assert 0.9 < crowd.workers_bound < 1.0
