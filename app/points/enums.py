"""The closed vocabularies of points (pure: no models)."""

from __future__ import annotations

from enum import StrEnum


class EntryKind(StrEnum):
    earn = "earn"
    redeem = "redeem"
    refund = "refund"
    expire = "expire"
    adjust = "adjust"


class SourceType(StrEnum):
    """What caused an entry; with source_id and kind, unique: a cause credits or debits once."""

    volunteer_signup = "volunteer_signup"  # an activity signup whose hours were confirmed
    pact_award = "pact_award"
    redemption = "redemption"
    adjustment = "adjustment"  # no source row: source_id null
    expiry = "expiry"          # points older than POINTS_EXPIRE_MONTHS: source_id null
    erasure = "erasure"        # the resident erased their account (issue 21): source_id = the point account


class RedemptionStatus(StrEnum):
    requested = "requested"
    fulfilled = "fulfilled"
    cancelled = "cancelled"


class RedemptionAction(StrEnum):
    fulfil = "fulfil"
    cancel = "cancel"


class Period(StrEnum):
    month = "month"
    quarter = "quarter"


# a redemption's steps: action -> (from, to)
REDEMPTION_STEPS: dict[RedemptionAction, tuple[RedemptionStatus, RedemptionStatus]] = {
    RedemptionAction.fulfil: (RedemptionStatus.requested, RedemptionStatus.fulfilled),
    RedemptionAction.cancel: (RedemptionStatus.requested, RedemptionStatus.cancelled),
}
