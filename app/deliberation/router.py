"""Proposals (议题): raise, list, read, timeline, steps, support (附议), comments, the vote and its ballots."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, status

from app.auth.deps import CurrentPrincipal
from app.core.errors import error_responses
from app.core.idempotency import Idempotent, IdempotentRoute
from app.core.pagination import Cursor, Limit
from app.core.routing import PrefixRouter
from app.core.schemas import Page
from app.core.validators import IdPath, IdQuery
from app.db.session import DbSession
from app.deliberation import comments, queries, service, votes
from app.deliberation.lifecycle import State
from app.deliberation.schemas import (
    CommentCreate,
    CommentRead,
    HideIn,
    ProposalCreate,
    ProposalEventRead,
    ProposalRead,
    ProposalStepIn,
    ProposalSummary,
    SupportRead,
)
from app.deliberation.vote_schemas import BallotIn, BallotRead, VoteRead
from app.uploads.router import Signer

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/proposals", tags=["deliberation"])
comments_router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/proposal-comments", tags=["deliberation"])

READ_ERRORS = error_responses(401, 404, 422, 500)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 500)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Raise a proposal (提议题)",
             response_model=ProposalRead, responses=error_responses(401, 403, 409, 422, 500),
             description="Residents raise proposals in their own community. Others support it (附议); at the "
                         "community's threshold it goes on the agenda by itself.",
             dependencies=[Idempotent])
async def raise_proposal(db: DbSession, p: CurrentPrincipal, signer: Signer, body: ProposalCreate):
    return await service.create_proposal(db, p, body, signer.url)


@router.get("", summary="Proposals of my community (or my scope), newest first",
            response_model=Page[ProposalSummary], responses=error_responses(400, 401, 422, 500))
async def list_proposals(db: DbSession, p: CurrentPrincipal,
                         state: Annotated[list[State] | None, Query(max_length=7)] = None,
                         community_id: IdQuery = None, limit: Limit = 20, cursor: Cursor = None):
    return await queries.list_proposals(db, p, states=state, community_id=community_id, limit=limit, cursor=cursor)


@router.get("/{proposal_id}", summary="A proposal, with its plan and the steps I may take",
            response_model=ProposalRead, responses=READ_ERRORS)
async def get_proposal(db: DbSession, p: CurrentPrincipal, signer: Signer, proposal_id: IdPath):
    return await queries.proposal_detail(db, p, proposal_id, signer.url)


@router.get("/{proposal_id}/timeline", summary="The proposal's timeline", response_model=list[ProposalEventRead],
            responses=READ_ERRORS)
async def get_proposal_timeline(db: DbSession, p: CurrentPrincipal, proposal_id: IdPath):
    return await queries.timeline(db, p, proposal_id)


@router.post("/{proposal_id}/steps", summary="Take a step: agenda, decline, withdraw, plan and notice, open the vote",
             response_model=ProposalRead, responses=WRITE_ERRORS,
             description="One door for the council's and the proposer's steps. Send the `version` you saw as "
                         "`expected_version` (409 `stale_version` if someone acted first). A step not allowed in the "
                         "current state is 409 `invalid_transition` with the state. Opening a vote reserves the "
                         "plan's cost from the year's budget (409 `budget_exceeded` with what is left).",
             dependencies=[Idempotent])
async def take_proposal_step(db: DbSession, p: CurrentPrincipal, signer: Signer, proposal_id: IdPath,
                             body: ProposalStepIn):
    return await service.take_step(db, p, proposal_id, body, signer.url)


@router.post("/{proposal_id}/support", summary="Support a proposal (附议), once", response_model=SupportRead,
             responses=WRITE_ERRORS,
             description="Residents of the community, once each (409 `already_supported`).",
             dependencies=[Idempotent])
async def support_proposal(db: DbSession, p: CurrentPrincipal, proposal_id: IdPath):
    return await service.support(db, p, proposal_id)


@router.get("/{proposal_id}/comments", summary="Comments on a proposal, oldest first",
            response_model=Page[CommentRead], responses=error_responses(400, 401, 404, 422, 500),
            description="Top-level comments, or with `parent_id` the replies to one.")
async def list_proposal_comments(db: DbSession, p: CurrentPrincipal, proposal_id: IdPath, parent_id: IdQuery = None,
                                 limit: Limit = 20, cursor: Cursor = None):
    return await comments.list_comments(db, p, proposal_id, parent_id=parent_id, limit=limit, cursor=cursor)


@router.post("/{proposal_id}/comments", status_code=status.HTTP_201_CREATED, summary="Comment on a proposal",
             response_model=CommentRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def add_proposal_comment(db: DbSession, p: CurrentPrincipal, proposal_id: IdPath, body: CommentCreate):
    return await comments.add_comment(db, p, proposal_id, body)


@comments_router.post("/{comment_id}/hide", summary="Hide a comment, with a reason its author sees",
                      response_model=CommentRead, responses=WRITE_ERRORS,
                      dependencies=[Idempotent])
async def hide_proposal_comment(db: DbSession, p: CurrentPrincipal, comment_id: IdPath, body: HideIn):
    return await comments.hide_comment(db, p, comment_id, body.reason)


@router.get("/{proposal_id}/vote", summary="The proposal's vote: window, rule, turnout, and the result",
            response_model=VoteRead, responses=READ_ERRORS,
            description="Counts per option are published with the result. You learn whether you may vote and "
                        "whether you did; nobody learns how anyone voted on a secret ballot.")
async def get_proposal_vote(db: DbSession, p: CurrentPrincipal, proposal_id: IdPath):
    return await votes.vote_detail(db, p, proposal_id, datetime.now(UTC))


@router.post("/{proposal_id}/vote/ballots", status_code=status.HTTP_201_CREATED, summary="Cast my ballot, once",
             response_model=BallotRead, responses=WRITE_ERRORS,
             description="403 `not_eligible` (with the reason) outside the electorate; 409 `already_voted`, "
                         "`voting_not_open`, `voting_closed`. The answer does not repeat your choice.",
             dependencies=[Idempotent])
async def cast_ballot(db: DbSession, p: CurrentPrincipal, proposal_id: IdPath, body: BallotIn):
    return await votes.cast_ballot(db, p, proposal_id, body, datetime.now(UTC))
