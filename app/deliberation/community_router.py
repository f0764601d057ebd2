"""A community's deliberation settings (the support threshold) and its yearly 民生微实事 budgets."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from app.auth.deps import CurrentPrincipal
from app.core.errors import error_responses
from app.core.routing import PrefixRouter
from app.core.validators import IdPath
from app.db.session import DbSession
from app.deliberation import budgets, service
from app.deliberation.schemas import BudgetPut, BudgetRead, SettingsRead, SettingsUpdate

router = PrefixRouter(prefix="/api/v1/communities/{community_id}", tags=["deliberation"])

Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/deliberation-settings", summary="The community's support threshold", response_model=SettingsRead,
            responses=error_responses(401, 404, 422, 500))
async def get_deliberation_settings(db: DbSession, p: CurrentPrincipal, community_id: IdPath):
    return await service.get_settings(db, p, community_id)


@router.put("/deliberation-settings", summary="Set the community's support threshold", response_model=SettingsRead,
            responses=error_responses(401, 403, 404, 409, 422, 500),
            description="Admins over the community. Applies from the next support.")
async def set_deliberation_settings(db: DbSession, p: CurrentPrincipal, community_id: IdPath, body: SettingsUpdate):
    return await service.set_settings(db, p, community_id, body.support_threshold)


@router.get("/budgets", summary="The community's yearly budgets, newest year first", response_model=list[BudgetRead],
            responses=error_responses(401, 404, 422, 500))
async def list_budgets(db: DbSession, p: CurrentPrincipal, community_id: IdPath):
    return await budgets.list_budgets(db, p, community_id)


@router.put("/budgets/{year}", summary="Set a year's budget (民生微实事)", response_model=BudgetRead,
            responses=error_responses(401, 403, 404, 409, 422, 500),
            description="Admins over the community. Never below what is reserved (409 `budget_below_reserved`).")
async def put_budget(db: DbSession, p: CurrentPrincipal, community_id: IdPath, year: Year, body: BudgetPut):
    return await budgets.put_budget(db, p, community_id, year, body.amount)
