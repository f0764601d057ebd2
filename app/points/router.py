"""Points, earning rules, rewards, redemptions, the published ranking: HTTP only."""

from __future__ import annotations

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
from app.points import earning, queries, ranking, rewards, service
from app.points.enums import Period, RedemptionStatus
from app.points.schemas import (
    AccountRead,
    AdjustmentIn,
    EntryRead,
    PactAwardIn,
    PactItemCreate,
    PactItemRead,
    PactItemUpdate,
    PostedRead,
    PublicationIn,
    RankingRead,
    RedemptionRead,
    RedemptionStepIn,
    RewardCreate,
    RewardRead,
    RewardUpdate,
    RulesIn,
    RulesRead,
)

router = PrefixRouter(route_class=IdempotentRoute, prefix="/api/v1/points", tags=["points"])

LIST_ERRORS = error_responses(400, 401, 403, 404, 422, 500)
READ_ERRORS = error_responses(401, 403, 404, 422, 500)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 500)


@router.get("/me", summary="My points balance (residents)", response_model=AccountRead, responses=READ_ERRORS)
async def get_my_points(db: DbSession, p: CurrentPrincipal):
    return await service.my_account(db, p)


@router.get("/me/entries", summary="My points history, newest first", response_model=Page[EntryRead],
            responses=LIST_ERRORS)
async def list_my_point_entries(db: DbSession, p: CurrentPrincipal, limit: Limit = 20, cursor: Cursor = None):
    return await queries.my_entries(db, p, limit=limit, cursor=cursor)


@router.put("/me/publication", summary="Appear in the published ranking, or not", response_model=AccountRead,
            responses=READ_ERRORS)
async def set_my_publication(db: DbSession, p: CurrentPrincipal, body: PublicationIn):
    return await service.set_publication(db, p, body.hide_from_ranking)


@router.get("/ranking", summary="The published points ranking (公示) of a community", response_model=RankingRead,
            responses=LIST_ERRORS,
            description="Points earned in a calendar month or quarter (China time), display names only; "
                        "residents who opted out are left out. Residents: their community; admins name one.")
async def get_points_ranking(db: DbSession, p: CurrentPrincipal, period: Period,
                             year: Annotated[int, Query(ge=2000, le=2100)],
                             number: Annotated[int, Query(ge=1, le=12, description="Month 1-12 or quarter 1-4.")],
                             community_id: IdQuery = None):
    return await ranking.ranking(db, p, community_id=community_id, period=period, year=year, number=number)


@router.get("/rules", summary="A community's earning rules and pact items", response_model=RulesRead,
            responses=READ_ERRORS)
async def get_point_rules(db: DbSession, p: CurrentPrincipal, community_id: Annotated[int, Query(ge=1, le=2**53)]):
    return await service.rules_of(db, p, community_id)


@router.put("/rules", summary="Set the volunteer-hour rate (admins)", response_model=RulesRead,
            responses=WRITE_ERRORS)
async def set_point_rules(db: DbSession, p: CurrentPrincipal, body: RulesIn):
    return await service.set_rules(db, p, body)


@router.post("/pact-items", status_code=status.HTTP_201_CREATED, summary="Add a pact item (admins)",
             response_model=PactItemRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def create_pact_item(db: DbSession, p: CurrentPrincipal, body: PactItemCreate):
    return await service.create_pact_item(db, p, body)


@router.patch("/pact-items/{pact_item_id}", summary="Edit or retire a pact item (admins)",
              response_model=PactItemRead, responses=WRITE_ERRORS)
async def update_pact_item(db: DbSession, p: CurrentPrincipal, pact_item_id: IdPath, body: PactItemUpdate):
    return await service.update_pact_item(db, p, pact_item_id, body)


@router.post("/pact-awards", status_code=status.HTTP_201_CREATED, summary="Award a pact item to a resident (admins)",
             response_model=PostedRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def award_pact_item(db: DbSession, p: CurrentPrincipal, body: PactAwardIn):
    return await earning.award_pact_item(db, p, pact_item_id=body.pact_item_id, user_id=body.user_id, note=body.note)


@router.post("/adjustments", status_code=status.HTTP_201_CREATED, summary="Adjust a resident's points (admins)",
             response_model=PostedRead, responses=WRITE_ERRORS,
             description="A signed amount with a reason; 409 `insufficient_points` if it would go below zero.",
             dependencies=[Idempotent])
async def adjust_points(db: DbSession, p: CurrentPrincipal, body: AdjustmentIn):
    return await service.adjust(db, p, body)


@router.post("/rewards", status_code=status.HTTP_201_CREATED, summary="Publish a reward (admins)",
             response_model=RewardRead, responses=WRITE_ERRORS,
             dependencies=[Idempotent])
async def create_reward(db: DbSession, p: CurrentPrincipal, body: RewardCreate):
    return await rewards.create_reward(db, p, body)


@router.get("/rewards", summary="Rewards I may see, newest first", response_model=Page[RewardRead],
            responses=LIST_ERRORS)
async def list_rewards(db: DbSession, p: CurrentPrincipal, limit: Limit = 20, cursor: Cursor = None):
    return await queries.list_rewards(db, p, limit=limit, cursor=cursor)


@router.get("/rewards/{reward_id}", summary="A reward", response_model=RewardRead, responses=READ_ERRORS)
async def get_reward(db: DbSession, p: CurrentPrincipal, reward_id: IdPath):
    return await rewards.visible_reward(db, p, reward_id)


@router.patch("/rewards/{reward_id}", summary="Edit a reward, add stock (admins)", response_model=RewardRead,
              responses=WRITE_ERRORS)
async def update_reward(db: DbSession, p: CurrentPrincipal, reward_id: IdPath, body: RewardUpdate):
    return await rewards.update_reward(db, p, reward_id, body)


@router.post("/rewards/{reward_id}/redeem", status_code=status.HTTP_201_CREATED, summary="Redeem a reward (积分兑换)",
             response_model=RedemptionRead, responses=WRITE_ERRORS,
             description="409 `insufficient_points`, `out_of_stock` or `reward_limit_reached`; nothing is written "
                         "then.",
             dependencies=[Idempotent])
async def redeem_reward(db: DbSession, p: CurrentPrincipal, reward_id: IdPath):
    return await rewards.redeem(db, p, reward_id)


@router.get("/redemptions", summary="Redemptions: mine (residents), my scope's (admins)",
            response_model=Page[RedemptionRead], responses=LIST_ERRORS)
async def list_redemptions(db: DbSession, p: CurrentPrincipal,
                           redemption_status: Annotated[RedemptionStatus | None, Query(alias="status")] = None,
                           limit: Limit = 20, cursor: Cursor = None):
    return await queries.list_redemptions(db, p, status=redemption_status, limit=limit, cursor=cursor)


@router.post("/redemptions/{redemption_id}/steps", summary="Fulfil (admins) or cancel a redemption",
             response_model=RedemptionRead, responses=WRITE_ERRORS,
             description="Cancelling refunds the points and returns the stock.",
             dependencies=[Idempotent])
async def take_redemption_step(db: DbSession, p: CurrentPrincipal, redemption_id: IdPath, body: RedemptionStepIn):
    return await rewards.take_redemption_step(db, p, redemption_id, body)
