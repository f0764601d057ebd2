"""Sign-in by SMS code (issue 18): ask for a code, then log in, register or reset the password with it."""

from __future__ import annotations

from fastapi import BackgroundTasks, Request, Response, status

from app.auth import sms
from app.auth.schemas import TokenOut
from app.auth.sms_delivery import send_now
from app.auth.sms_schemas import SmsCodeRequest, SmsCodeSent, SmsLoginIn, SmsRegisterIn, SmsResetIn
from app.clients.deps import app_signing_in, client_address
from app.core.config import AppSettings
from app.core.errors import error_responses
from app.core.routing import PrefixRouter
from app.db.session import get_database

router = PrefixRouter(prefix="/api/v1/auth/sms", tags=["auth"])

_CODE_ERRORS = ("`sms_code_invalid` (wrong code; `details.attempts_left`), `sms_code_expired` (after 5 minutes), "
                "`sms_code_used` (single use), `sms_code_attempts_exceeded` (the fifth wrong try kills the code: "
                "ask for a new one); all 401.")




_APP = (" Through a registered app (header `X-Client-Id`) the tokens carry its client id and scopes; an unknown "
        "id: 401 `client_unknown`, a suspended app: 403 `client_suspended`.")


@router.post("/codes", status_code=status.HTTP_202_ACCEPTED, response_model=SmsCodeSent,
             summary="Ask for an SMS verification code", responses=error_responses(413, 422, 429, 500, 503),
             description="Sends a six-digit code to the number, valid 5 minutes for its `purpose` only. The "
                         "answer is the same whether or not the number has an account. Limits: one code per "
                         "number per SMS_RESEND_SECONDS, SMS_MAX_PER_PHONE per number and SMS_MAX_PER_ADDRESS per "
                         "client address per SMS_WINDOW_SECONDS: 429 `sms_rate_limited` with `Retry-After` and "
                         "`details.per` (`phone` or `address`). 503 when SMS is not configured.")
async def sms_codes_request(request: Request, settings: AppSettings, body: SmsCodeRequest,
                            background: BackgroundTasks) -> SmsCodeSent:
    database = get_database(request)
    outbox_id = await sms.request_code(database, settings, request.app.state.jwt_secret, phone=body.phone,
                                       purpose=body.purpose, address=client_address(request))
    background.add_task(send_now, database, settings, outbox_id)  # after the commit above
    return SmsCodeSent(expires_in=300, resend_after=settings.sms_resend_seconds)


@router.post("/login", response_model=TokenOut, summary="Log in with an SMS code",
             responses=error_responses(401, 403, 404, 413, 422, 500),
             description="Tokens for the number's account. " + _CODE_ERRORS + " A number without an account: "
                         "404 (the code is spent); a disabled account: 401 `account_disabled`." + _APP)
async def sms_login(request: Request, settings: AppSettings, body: SmsLoginIn) -> TokenOut:
    client = await app_signing_in(request)
    return await sms.login(get_database(request), settings, request.app.state.jwt_secret,
                           request.app.state.jwt_secret, phone=body.phone, code=body.code,
                           address=client_address(request), client=client)


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=TokenOut,
             summary="Register as a resident with an SMS code",
             responses=error_responses(401, 403, 409, 413, 422, 500),
             description="Creates the resident account of a number proved by a `register` code and signs it in. "
                         + _CODE_ERRORS + " A number that already has an account: 409 `phone_taken` (told only "
                         "to the holder of a valid code). The password is optional." + _APP)
async def sms_register(request: Request, settings: AppSettings, body: SmsRegisterIn) -> TokenOut:
    client = await app_signing_in(request)
    return await sms.register(get_database(request), settings, request.app.state.jwt_secret,
                              request.app.state.jwt_secret, body, address=client_address(request), client=client)


@router.post("/reset-password", status_code=status.HTTP_204_NO_CONTENT, summary="Reset the password with an SMS code",
             responses=error_responses(401, 404, 413, 422, 500),
             description="Sets a new password for the number's account and ends every session of it. "
                         + _CODE_ERRORS + " A number without an account: 404.")
async def sms_reset_password(request: Request, settings: AppSettings, body: SmsResetIn) -> Response:
    await sms.reset_password(get_database(request), settings, request.app.state.jwt_secret, phone=body.phone,
                             code=body.code, new_password=body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
