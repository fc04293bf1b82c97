"""The decoding policy both batched runtimes share: admission, the finish rule, the time share."""

import pytest

from extractor.core.generation import LoopGuard
from extractor.runtimes.decoding import Admission, next_token, share


def test_waiting_prompts_join_when_a_quarter_of_the_slots_are_free():
    a = Admission(16)
    assert a.refill == 4
    assert a.admit(waiting=40, running=0) == 16      # nothing runs: fill every slot
    assert a.admit(waiting=40, running=13) == 0      # 3 free: not worth a prompt pass yet
    assert a.admit(waiting=40, running=12) == 4      # a quarter free: take them
    assert a.admit(waiting=2, running=14) == 2       # the last prompts join as soon as they fit
    assert a.admit(waiting=0, running=3) == 0
    assert Admission(1).admit(waiting=5, running=0) == 1 and Admission(0).slots == 1


def test_the_finish_rule_keeps_tokens_and_names_why_a_sequence_ends():
    out = []
    assert next_token(out, 7, False, budget=3, guard=None) is None and out == [7]
    assert next_token(out, 2, True, budget=3, guard=None) == "stop" and out == [7]  # end of turn: not kept
    assert next_token(out, 8, False, budget=3, guard=None) is None
    assert next_token(out, 9, False, budget=3, guard=None) == "length" and out == [7, 8, 9]
    looping, reason = [], None
    guard = LoopGuard()
    for i in range(200):
        reason = next_token(looping, i % 2, False, budget=1000, guard=guard)
        if reason:
            break
    assert reason == "loop" and len(looping) < 200


def test_a_steps_time_is_shared_by_tokens():
    assert share(3.0, {"a": 1, "b": 2}) == pytest.approx({"a": 1.0, "b": 2.0})
    assert share(1.0, {}) == {}
