"""The REST API's errors, all of one documented shape: {"error": {"code": "...", "message": "..."}}
("details" for invalid input; `resource` and `limit` for a plan limit). Codes are stable.

The handlers here answer what operations raise; api.middleware gives the same shape to answers no
operation gives (a path or a method the API does not have, a server error).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from billing.limits import PlanLimitReached
from inbox.exceptions import InboxError
from webhooks.exceptions import EndpointInvalid


class ApiError(Exception):
    """An operation's answer as the documented error, with headers of its own (Retry-After)."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class BodyUnreadable(ValueError):
    """A request body that is not JSON (a form, junk, invalid UTF-8, nesting too deep to read)."""


# The code of an error the API only knows by its status (see api.middleware).
CODE_OF_STATUS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "invalid_request",
    500: "server_error",
}


def error_response(
    request, status: int, code: str, message: str, headers: dict | None = None, **extra
) -> HttpResponse:
    """The documented error: {"error": {"code": …, "message": …, **extra}}."""
    # Imported here: api.rest builds the API with this module's handlers. The API renders the
    # error, so it has the same Content-Type as every other answer.
    from api.rest import api

    response = api.create_response(
        request, {"error": {"code": code, "message": message, **extra}}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _api_error(request, exc: ApiError):
    return error_response(request, exc.status, exc.code, exc.message, exc.headers)


def _unauthorized(request, exc):
    return error_response(
        request,
        401,
        "unauthorized",
        "Send a live API key of this workspace as `Authorization: Bearer sk_…`.",
        {"WWW-Authenticate": 'Bearer realm="parley"'},
    )


def _invalid(request, exc):
    details = [
        {"location": list(map(str, e.get("loc", []))), "message": e.get("msg", "")} for e in exc.errors
    ]
    return error_response(
        request, 422, "invalid_request", "Some input is missing or malformed.", details=details
    )


def _not_found(request, exc):
    return error_response(request, 404, "not_found", str(exc) or "Not found.")


def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, BodyUnreadable):
        details = [{"location": ["body"], "message": str(exc.__cause__)}]
        return error_response(
            request, 422, "invalid_request", "Some input is missing or malformed.", details=details
        )
    return error_response(
        request, exc.status_code, CODE_OF_STATUS.get(exc.status_code, "bad_request"), str(exc)
    )


def _too_big(request, exc):
    # Raised by Django when the body is first read (while django-ninja reads it for the operation):
    # by its Content-Length, or by what was buffered of a chunked one.
    return error_response(
        request,
        413,
        "payload_too_large",
        f"A request body may be at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.",
    )


def _inbox_error(request, exc: InboxError):
    return error_response(request, 400, exc.code, str(exc))


def _plan_limit(request, exc: PlanLimitReached):
    return error_response(request, exc.status, exc.code, str(exc), resource=exc.resource.key, limit=exc.limit)


def _endpoint_invalid(request, exc: EndpointInvalid):
    return error_response(request, exc.status, exc.code, str(exc))


def add_exception_handlers(api: NinjaAPI) -> None:
    """Answer every exception an operation may raise with the documented error."""
    for exception, handler in (
        (ApiError, _api_error),
        (AuthenticationError, _unauthorized),
        (NinjaValidationError, _invalid),
        (Http404, _not_found),
        (HttpError, _http_error),
        (RequestDataTooBig, _too_big),
        (InboxError, _inbox_error),
        (PlanLimitReached, _plan_limit),
        (EndpointInvalid, _endpoint_invalid),
    ):
        api.add_exception_handler(exception, handler)
