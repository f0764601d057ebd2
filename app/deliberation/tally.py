"""Counting a vote (居民表决): pure functions over the counts, the electorate's size and the rule.

Shares are exact fractions (numerator, denominator), never floats: two thirds of nine is six, and 6/9 must meet
2/3 exactly. Two rules:

- `simple_majority`: of the ballots cast. Yes/no votes pass when yes > no (abstentions count for turnout only);
  votes between choices pass when one choice has more than half of the ballots cast.
- `electorate_share`: of the whole electorate (e.g. two thirds of a building for an elevator): yes (or the leading
  choice) must reach `share` × electorate, whoever did not vote counting as not in favour.

Either rule may add a quorum: the ballots cast must reach `quorum` × electorate, or nothing passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction


class BallotKind(StrEnum):
    yes_no = "yes_no"      # 赞成 / 反对 / 弃权
    choices = "choices"    # custom choices (e.g. where the bins go)


class RuleKind(StrEnum):
    simple_majority = "simple_majority"
    electorate_share = "electorate_share"


class FailReason(StrEnum):
    quorum_not_met = "quorum_not_met"
    share_not_reached = "share_not_reached"
    no_majority = "no_majority"
    tie = "tie"
    no_ballots = "no_ballots"


YES, NO, ABSTAIN = "yes", "no", "abstain"


@dataclass(frozen=True, slots=True)
class Rule:
    kind: RuleKind
    share: Fraction = Fraction(1, 2)   # electorate_share: the share of the electorate needed
    quorum: Fraction = Fraction(0)     # turnout needed (share of the electorate); 0: none


@dataclass(frozen=True, slots=True)
class Result:
    passed: bool
    turnout: int                  # ballots cast
    electorate: int
    quorum_met: bool
    winner: str | None            # the option key that carried (yes, or the winning choice); None if none did
    reason: FailReason | None     # why it did not pass


def meets(count: int, share: Fraction, whole: int) -> bool:
    """count ≥ share × whole, exactly."""
    return count * share.denominator >= share.numerator * whole


def tally(kind: BallotKind, counts: dict[str, int], electorate: int, rule: Rule) -> Result:
    """The result of a closed vote. `counts` maps each option key to its ballots (options with none may be
    missing)."""
    cast = sum(counts.values())
    quorum_met = meets(cast, rule.quorum, electorate) and cast > 0

    def result(winner: str | None, reason: FailReason | None) -> Result:
        return Result(passed=reason is None, turnout=cast, electorate=electorate, quorum_met=quorum_met,
                      winner=winner if reason is None else None, reason=reason)

    if cast == 0:
        return result(None, FailReason.no_ballots)
    if not quorum_met:
        return result(None, FailReason.quorum_not_met)
    if kind is BallotKind.yes_no:
        yes, no = counts.get(YES, 0), counts.get(NO, 0)
        if rule.kind is RuleKind.electorate_share:
            return result(YES, None if meets(yes, rule.share, electorate) else FailReason.share_not_reached)
        return result(YES, None if yes > no else FailReason.no_majority)
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    top_key, top = ranked[0]
    if len(ranked) > 1 and ranked[1][1] == top:
        return result(None, FailReason.tie)
    if rule.kind is RuleKind.electorate_share:
        return result(top_key, None if meets(top, rule.share, electorate) else FailReason.share_not_reached)
    return result(top_key, None if 2 * top > cast else FailReason.no_majority)
