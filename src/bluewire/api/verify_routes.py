"""`/api/v2/verify` and `/api/v2/totp`: Verify's inverted one-time codes (services/verify.py)
and stored TOTP secrets (services/totp.py), at the paths the official SDK calls."""

from __future__ import annotations

from typing import Any

from ..domain.wire.totp import (
    NewTotpSecret,
    TotpCode,
    TotpDeleted,
    TotpSecretAnswer,
    TotpSecretId,
    TotpSecretList,
)
from ..domain.wire.verify import (
    NewVerification,
    NewVerifyService,
    ServiceSid,
    UpdateVerification,
    Verification,
    VerificationList,
    VerificationPath,
    VerificationQuery,
    VerifyService,
    VerifyServiceList,
)
from ..services.totp import TotpService
from ..services.verify import VerifyService as Verify
from .endpoint import Endpoint
from .http import Request, Router

VERIFY = "/api/v2/verify"
SERVICES = f"{VERIFY}/services"
SERVICE = f"{SERVICES}/{{service_sid}}"
VERIFICATIONS = f"{SERVICE}/verifications"
VERIFICATION = f"{VERIFICATIONS}/{{verification_sid}}"
TOTP = "/api/v2/totp"
VERIFY_TAG, TOTP_TAG = "Verify", "TOTP"

CREATE_SERVICE = Endpoint(
    "POST", SERVICES, "Create a Verify service: the settings of its verifications", VERIFY_TAG,
    body=NewVerifyService, response=VerifyService, body_required=False,
    description="Code length, how long a verification stays pending, how many wrong codes "
                "cancel it, and the line the codes are texted to.")
LIST_SERVICES = Endpoint("GET", SERVICES, "The account's Verify services", VERIFY_TAG,
                         response=VerifyServiceList)
RETRIEVE_SERVICE = Endpoint("GET", SERVICE, "One Verify service", VERIFY_TAG,
                            params=ServiceSid, response=VerifyService, errors=(400, 401, 404))
CREATE_VERIFICATION = Endpoint(
    "POST", VERIFICATIONS, "Start verifying that a phone can text from its number", VERIFY_TAG,
    params=ServiceSid, body=NewVerification, response=Verification, errors=(400, 401, 404),
    description="An inverted one-time code: `delivery_target` gives the code and the line "
                "(`pool_number`); the phone `to` texts the code to that line. The right code "
                "approves the verification (`verification.approved`); each wrong one counts an "
                "attempt, and the service's `max_attempts`-th cancels it "
                "(`verification.canceled`); past `expires_at` it expires "
                "(`verification.expired`). The code is shown in this answer alone: only its "
                "hash is kept.")
RETRIEVE_VERIFICATION = Endpoint(
    "GET", VERIFICATION, "A verification's status", VERIFY_TAG, params=VerificationPath,
    response=Verification, errors=(400, 401, 404))
CANCEL_VERIFICATION = Endpoint(
    "POST", VERIFICATION, "Cancel a pending verification", VERIFY_TAG,
    params=VerificationPath, body=UpdateVerification, response=Verification,
    errors=(400, 401, 404, 409), description="`{\"status\": \"canceled\"}`; 409 once it has "
                                             "ended (approved, expired or canceled).")
LIST_VERIFICATIONS = Endpoint(
    "GET", f"{VERIFY}/verifications", "The account's verifications, last updated first",
    VERIFY_TAG, params=VerificationQuery, response=VerificationList,
    description="To catch up on endings missed (an event stream's gap): `updated_at_gte`.")

CREATE_SECRET = Endpoint(
    "POST", f"{TOTP}/secrets", "Store a TOTP secret", TOTP_TAG, body=NewTotpSecret,
    response=TotpSecretAnswer,
    description="A base32 `secret` with a `label` (omit the secret to have one made), or the "
                "`otpauth://` `uri` of a QR code. Stored encrypted; the secret and its URI "
                "are in this answer alone.")
LIST_SECRETS = Endpoint("GET", f"{TOTP}/secrets", "The account's TOTP secrets (without the "
                        "secrets)", TOTP_TAG, response=TotpSecretList)
RETRIEVE_SECRET = Endpoint("GET", f"{TOTP}/secrets/{{secret_id}}", "One TOTP secret (without "
                           "the secret)", TOTP_TAG, params=TotpSecretId,
                           response=TotpSecretAnswer, errors=(400, 401, 404))
DELETE_SECRET = Endpoint("DELETE", f"{TOTP}/secrets/{{secret_id}}", "Delete a TOTP secret",
                         TOTP_TAG, params=TotpSecretId, response=TotpDeleted,
                         errors=(400, 401, 404))
CODE = Endpoint("GET", f"{TOTP}/code/{{secret_id}}", "The current code of a TOTP secret",
                TOTP_TAG, params=TotpSecretId, response=TotpCode, errors=(400, 401, 404))


def register_verify_routes(router: Router, verify: Verify, totp: TotpService) -> None:
    async def create_service(request: Request) -> dict[str, Any]:
        return await verify.create_service(request.account, request.data or NewVerifyService())

    async def list_services(request: Request) -> dict[str, Any]:
        return await verify.list_services(request.account)

    async def retrieve_service(request: Request) -> dict[str, Any]:
        return await verify.retrieve_service(request.account, request.args.service_sid)

    async def create_verification(request: Request) -> dict[str, Any]:
        return await verify.create(request.account, request.args.service_sid, request.data)

    async def retrieve_verification(request: Request) -> dict[str, Any]:
        return await verify.retrieve(request.account, request.args.service_sid,
                                     request.args.verification_sid)

    async def cancel_verification(request: Request) -> dict[str, Any]:
        return await verify.cancel(request.account, request.args.service_sid,
                                   request.args.verification_sid)

    async def list_verifications(request: Request) -> dict[str, Any]:
        return await verify.list(request.account, request.args)

    async def create_secret(request: Request) -> dict[str, Any]:
        return await totp.create(request.account, request.data)

    async def list_secrets(request: Request) -> dict[str, Any]:
        return await totp.list(request.account)

    async def retrieve_secret(request: Request) -> dict[str, Any]:
        return await totp.retrieve(request.account, request.args.secret_id)

    async def delete_secret(request: Request) -> dict[str, Any]:
        return await totp.delete(request.account, request.args.secret_id)

    async def code(request: Request) -> dict[str, Any]:
        return await totp.code(request.account, request.args.secret_id)

    router.endpoint(CREATE_SERVICE, create_service)
    router.endpoint(LIST_SERVICES, list_services)
    router.endpoint(RETRIEVE_SERVICE, retrieve_service)
    router.endpoint(CREATE_VERIFICATION, create_verification)
    router.endpoint(RETRIEVE_VERIFICATION, retrieve_verification)
    router.endpoint(CANCEL_VERIFICATION, cancel_verification)
    router.endpoint(LIST_VERIFICATIONS, list_verifications)
    router.endpoint(CREATE_SECRET, create_secret)
    router.endpoint(LIST_SECRETS, list_secrets)
    router.endpoint(RETRIEVE_SECRET, retrieve_secret)
    router.endpoint(DELETE_SECRET, delete_secret)
    router.endpoint(CODE, code)
