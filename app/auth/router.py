from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.deps import CurrentPrincipal
from app.auth.schemas import RefreshIn, RegisterIn, RegistrationAccepted, TokenOut
from app.clients.deps import ClientIdHeader, app_signing_in, client_address
from app.core import ratelimit
from app.core.config import AppSettings
from app.core.errors import InvalidInput, error_responses
from app.core.routing import PrefixRouter
from app.core.validators import PHONE_RE
from app.db.session import DbSession, get_database

router = PrefixRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/register", status_code=status.HTTP_202_ACCEPTED, summary="Register as a resident",
             response_model=RegistrationAccepted, responses=error_responses(409, 413, 422, 429, 500),
             description="The answer is the same whether or not the phone number already has an account, so this "
                         "endpoint cannot be used to find out who has one: sign in next with the number and "
                         "password (a number that already had an account keeps its own password). Attempts are "
                         "limited per client address (REGISTER_MAX_PER_ADDRESS per LOGIN_WINDOW_SECONDS): 429 with "
                         "`Retry-After`. `privacy_notice_version` is the version of GET /api/v1/privacy/notice the "
                         "resident accepted; another version answers 409 `privacy_notice_outdated`.")
async def register(request: Request, settings: AppSettings, body: RegisterIn) -> RegistrationAccepted:
    # no request session: the password is hashed before any write transaction opens
    await ratelimit.check_phone(request, body.phone)  # issue 18
    await service.register_resident(get_database(request), settings, body, client_address(request))
    return RegistrationAccepted(status="accepted", next="login")


@router.post("/token", summary="Log in with phone and password (OAuth2 password form)", response_model=TokenOut,
             responses=error_responses(401, 403, 413, 422, 429, 500),
             description="`username` is the phone number. Repeated failures lock the phone number (and the "
                         "client address) for a while: 429 with `Retry-After`. A registered app names itself "
                         "with the header `X-Client-Id`: the tokens then carry its client id and scopes (an "
                         "unknown id: 401 `client_unknown`; a suspended app: 403 `client_suspended`).")
async def issue_token(request: Request, settings: AppSettings, form: Annotated[OAuth2PasswordRequestForm, Depends()],
                      x_client_id: ClientIdHeader = None):
    # no request session: the login opens a read and then a short write transaction around the password hash
    if not PHONE_RE.fullmatch(form.username) or not 1 <= len(form.password) <= 128:
        raise InvalidInput("validation_error", [{"loc": ["body", "username"], "type": "phone",
                                                 "msg": "mainland mobile number expected"}])
    await ratelimit.check_phone(request, form.username)  # issue 18: requests per phone number, failed or not
    client = await app_signing_in(request)
    return await service.login(get_database(request), settings, request.app.state.jwt_secret, phone=form.username,
                               password=form.password, address=client_address(request), client=client)


@router.post("/refresh", summary="Exchange a refresh token for a new pair (rotation)", response_model=TokenOut,
             responses=error_responses(401, 403, 413, 422, 500),
             description="The refresh token is single-use. Presenting one that was already used revokes every "
                         "token of that login (reuse detection). A sign-in through a registered app gets its "
                         "current scopes, and 403 `client_suspended` while the app is suspended.")
async def refresh_token(request: Request, db: DbSession, settings: AppSettings, body: RefreshIn):
    return await service.refresh(db, settings, request.app.state.jwt_secret, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Log out: end this sign-in",
             responses=error_responses(401, 404, 413, 422, 500),
             description="Needs the caller's own access token and refresh token (someone else's: 404). The "
                         "refresh token's family and the access token's session are revoked: both stop at once.")
async def logout(request: Request, db: DbSession, settings: AppSettings, p: CurrentPrincipal,
                 body: RefreshIn) -> None:
    await service.logout(db, settings, request.app.state.jwt_secret, body.refresh_token, user_id=p.user_id,
                         session_id=getattr(request.state, "session_id", None))
