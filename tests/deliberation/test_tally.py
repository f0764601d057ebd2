"""The tally rules, as pure tests: exact fractions, quorum, majority of votes cast, share of the electorate."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.deliberation.tally import BallotKind, FailReason, Rule, RuleKind, meets, tally

MAJORITY = Rule(RuleKind.simple_majority)
TWO_THIRDS = Rule(RuleKind.electorate_share, share=Fraction(2, 3), quorum=Fraction(2, 3))


def test_two_thirds_of_nine_is_six_exactly():
    assert meets(6, Fraction(2, 3), 9) and not meets(5, Fraction(2, 3), 9)
    assert meets(0, Fraction(0), 9)


@pytest.mark.parametrize(("counts", "passed", "reason"), [
    ({"yes": 3, "no": 2}, True, None),
    ({"yes": 2, "no": 2, "abstain": 5}, False, FailReason.no_majority),
    ({"yes": 1, "no": 0, "abstain": 9}, True, None),  # abstentions count for turnout, not against
    ({}, False, FailReason.no_ballots),
])
def test_simple_majority_of_votes_cast(counts, passed, reason):
    r = tally(BallotKind.yes_no, counts, 100, MAJORITY)
    assert (r.passed, r.reason) == (passed, reason)
    assert r.turnout == sum(counts.values()) and r.electorate == 100


def test_two_thirds_of_the_building_fails_for_lack_of_quorum_even_when_every_ballot_is_yes():
    r = tally(BallotKind.yes_no, {"yes": 3}, 6, TWO_THIRDS)
    assert not r.passed and r.reason is FailReason.quorum_not_met and not r.quorum_met and r.winner is None


def test_two_thirds_share_counts_non_voters_as_not_in_favour():
    assert tally(BallotKind.yes_no, {"yes": 4, "no": 0}, 6, TWO_THIRDS).passed  # 4 of 6: turnout and share met
    r = tally(BallotKind.yes_no, {"yes": 3, "no": 0, "abstain": 1}, 6, TWO_THIRDS)
    assert not r.passed and r.reason is FailReason.share_not_reached and r.quorum_met


def test_quorum_applies_to_simple_majority_too():
    rule = Rule(RuleKind.simple_majority, quorum=Fraction(1, 2))
    assert not tally(BallotKind.yes_no, {"yes": 4}, 10, rule).passed
    assert tally(BallotKind.yes_no, {"yes": 4, "no": 1}, 10, rule).passed


@pytest.mark.parametrize(("counts", "rule", "winner", "reason"), [
    ({"c1": 5, "c2": 3, "c3": 1}, MAJORITY, "c1", None),
    ({"c1": 4, "c2": 3, "c3": 2}, MAJORITY, None, FailReason.no_majority),  # 4 of 9 is not more than half
    ({"c1": 4, "c2": 4}, MAJORITY, None, FailReason.tie),
    ({"c1": 6, "c2": 1}, Rule(RuleKind.electorate_share, share=Fraction(1, 2)), "c1", None),
    ({"c1": 4, "c2": 1}, Rule(RuleKind.electorate_share, share=Fraction(1, 2)), None, FailReason.share_not_reached),
])
def test_choices(counts, rule, winner, reason):
    r = tally(BallotKind.choices, counts, 10, rule)
    assert (r.winner, r.reason, r.passed) == (winner, reason, reason is None)
