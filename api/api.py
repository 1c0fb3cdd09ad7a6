"""The REST API, /api/v1/ on a workspace's host: bearer API keys, JSON errors of one shape.

Every error is {"error": {"code": "...", "message": "..."}} ("details" for invalid input); codes are
stable. Errors that never reach an operation (a path or a method the API does not have, a server
error) get the same shape from api.middleware. The workspace is the host's; a key is looked up in
that workspace's schema only, so a key of another workspace, or an id of another workspace's
object, finds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Path, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import BeforeValidator, ConfigDict, PlainValidator, StrictBool, WithJsonSchema

from accounts.models import User
from api import rate_limit, selectors
from api.models import ApiKey
from api.services import KeyRefused, api_key_acting_member, api_key_for
from billing.limits import PlanLimitReached
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.exceptions import InboxError
from inbox.models import Conversation
from tenants.models import Membership
from webhooks import selectors as webhook_selectors
from webhooks import services as webhook_services
from webhooks.exceptions import EndpointInvalid
from webhooks.models import Endpoint, EventType


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _rate_limit(key: ApiKey) -> None:
    """PARLEY_API_RATE_LIMIT requests per key in any 60 s, counted in Redis across every web process."""
    retry_after = rate_limit.key_retry_after(schema_name=connection.schema_name, key_id=key.pk)
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"A key may make {settings.PARLEY_API_RATE_LIMIT} requests in any 60 seconds; "
            f"retry in {retry_after} s.",
            {"Retry-After": str(retry_after)},
        )


class ApiKeyAuth(HttpBearer):
    openapi_description = (
        "A workspace API key (sk_…) made in Settings → API keys: `Authorization: Bearer sk_…`."
    )

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        if request.workspace is None:
            return None
        key = api_key_for(token)
        if key is not None:
            try:
                # Every operation, reads too, acts with the maker's rights as they are now.
                request.api_member = api_key_acting_member(key=key, workspace=request.workspace).user
            except KeyRefused as exc:
                raise ApiError(403, exc.code, str(exc)) from None
            _rate_limit(key)
            request.api_key = key
        return key


class BodyUnreadable(ValueError):
    """A request body that is not JSON (a form, junk, invalid UTF-8, nesting too deep to read)."""


class JsonBodyParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        # django-ninja turns whatever this raises into HttpError(400) raised from it; _http_error
        # finds this exception as its cause and answers the documented 422.
        try:
            return super().parse_body(request)
        except (ValueError, RecursionError) as exc:
            raise BodyUnreadable(f"The body is not JSON: {exc}"[:200]) from exc


api = NinjaAPI(
    title="Parley API",
    version="1",
    description="Read and act on a workspace's conversations, messages, contacts and webhook endpoints. "
    "Objects have the same shapes as in webhook payloads.",
    auth=ApiKeyAuth(),
    urls_namespace="api_v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=JsonBodyParser(),
)

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
    response = api.create_response(
        request, {"error": {"code": code, "message": message, **extra}}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(request, exc.status, exc.code, exc.message, exc.headers)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return error_response(
        request,
        401,
        "unauthorized",
        "Send a live API key of this workspace as `Authorization: Bearer sk_…`.",
        {"WWW-Authenticate": 'Bearer realm="parley"'},
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    details = [
        {"location": list(map(str, e.get("loc", []))), "message": e.get("msg", "")} for e in exc.errors
    ]
    return error_response(
        request, 422, "invalid_request", "Some input is missing or malformed.", details=details
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, BodyUnreadable):
        details = [{"location": ["body"], "message": str(exc.__cause__)}]
        return error_response(
            request, 422, "invalid_request", "Some input is missing or malformed.", details=details
        )
    return error_response(
        request, exc.status_code, CODE_OF_STATUS.get(exc.status_code, "bad_request"), str(exc)
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    # Raised by Django when the body is first read (while django-ninja reads it for the operation):
    # by its Content-Length, or by what was buffered of a chunked one.
    return error_response(
        request,
        413,
        "payload_too_large",
        f"A request body may be at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.",
    )


@api.exception_handler(InboxError)
def _inbox_error(request, exc: InboxError):
    return error_response(request, 400, exc.code, str(exc))


@api.exception_handler(PlanLimitReached)
def _plan_limit(request, exc: PlanLimitReached):
    return error_response(request, exc.status, exc.code, str(exc), resource=exc.resource.key, limit=exc.limit)


@api.exception_handler(EndpointInvalid)
def _endpoint_invalid(request, exc: EndpointInvalid):
    return error_response(request, exc.status, exc.code, str(exc))


def _write_scope(request) -> ApiKey:
    key: ApiKey = request.api_key
    if not key.can_write:
        raise ApiError(403, "insufficient_scope", "This key is read-only; this needs a read-write key.")
    return key


def _key_member(request) -> User:
    """Who writes what a key writes: the member who made it (checked on every request)."""
    _write_scope(request)
    return request.api_member


# --- Input: exactly as documented. Unknown fields, a number for a flag or a time, are refused (422)
# rather than guessed at; query parameters the API does not know are ignored.


# Ids are PostgreSQL bigints: one outside their range is malformed input (422), never sent on.
ID_MAX = 2**63 - 1


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


def _rfc3339(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("expected a date-time text such as 2026-12-01T09:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected a date-time text such as 2026-12-01T09:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("the date-time needs a time zone: Z or ±hh:mm")
    return parsed


def _whole_number(value: Any) -> int:
    """A JSON integer: 7 or 7.0, never "7", true, 7.5 or infinity."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError("expected a whole number")


IdIn = Annotated[int, Field(ge=1, le=ID_MAX), BeforeValidator(_whole_number)]
DateTimeIn = Annotated[
    datetime, PlainValidator(_rfc3339), WithJsonSchema({"type": "string", "format": "date-time"})
]

PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
OptionalId = Annotated[int | None, Field(ge=1, le=ID_MAX)]


# --- Objects (the shapes of webhooks/migrations/0002, documented in the README)


class UserOut(Schema):
    id: int
    name: str
    email: str


# Every time the API writes: ISO 8601 in UTC with microseconds and "Z", the text webhook payloads
# carry (the schema's webhook_time function writes the objects' times; api_time writes the rest).
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"


def api_time(value: datetime) -> str:
    """`value` as webhook_time writes it: 2026-11-25T09:34:57.123456Z (six digits even when zero)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


Timestamp = Annotated[
    str,
    BeforeValidator(lambda value: api_time(value) if isinstance(value, datetime) else value),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}),
]


class ConversationOut(Schema):
    id: int
    website_id: int
    contact_id: int
    status: Literal["open", "pending", "snoozed", "resolved"]
    priority: Literal["none", "low", "medium", "high", "urgent"]
    assignee: UserOut | None
    labels: list[str]
    created_at: Timestamp
    last_message_at: Timestamp | None
    first_agent_reply_at: Timestamp | None
    resolved_at: Timestamp | None
    snoozed_until: Timestamp | None


class MessageOut(Schema):
    id: int
    conversation_id: int
    contact_id: int
    kind: Literal["visitor", "agent", "note", "system"]
    body: str
    author: UserOut | None
    created_at: Timestamp


class ContactOut(Schema):
    id: int
    website_id: int
    name: str
    email: str
    external_id: str
    identity_verified: bool
    custom_attributes: dict[str, Any]
    current_url: str
    created_at: Timestamp
    last_seen_at: Timestamp | None


class ConversationPage(Schema):
    data: list[ConversationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class MessagePage(Schema):
    data: list[MessageOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last.")


class ContactPage(Schema):
    data: list[ContactOut]
    next_cursor: str | None


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


# 403 on every operation: a key whose maker left or is no longer an owner or admin is refused.
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS = {**ERRORS, 400: ErrorOut, 413: ErrorOut}


class ConversationFilters(Schema):
    status: Literal["open", "pending", "snoozed", "resolved"] = "open"
    tab: Literal["all", "mine", "unassigned"] = Field(
        "all", description="mine: assigned to the member who made the key."
    )
    website_id: OptionalId = None
    assignee_id: OptionalId = None
    label_id: OptionalId = None
    q: str = Field(
        "", max_length=200, description="Full-text search in messages and the contact's name/email."
    )
    cursor: str | None = Field(
        None, pattern=r"^[0-9]+\.[0-9]+_[0-9]+$", description="next_cursor of the page before."
    )
    limit: int = Field(25, ge=1, le=100)


def _conversation_or_404(conversation_id: int) -> Conversation:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


@api.get("/conversations", response={200: ConversationPage, **ERRORS}, tags=["conversations"])
def list_conversations(request, filters: Query[ConversationFilters]):
    """Conversations, latest activity first, filtered as in the inbox; a page at a time."""
    page = inbox_selectors.conversation_page(
        agent_id=request.api_key.created_by_id,
        filters=inbox_selectors.InboxFilters(
            tab=filters.tab,
            status=filters.status,
            website_id=filters.website_id,
            assignee_id=filters.assignee_id,
            label_id=filters.label_id,
            query=filters.q.strip(),
        ),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    ids = [c.pk for c in page.conversations]
    return {
        "data": webhook_selectors.documented_objects("conversation", ids),
        "next_cursor": page.next_cursor,
    }


@api.get(
    "/conversations/{conversation_id}", response={200: ConversationOut, **ERRORS}, tags=["conversations"]
)
def get_conversation(request, conversation_id: PathId):
    return webhook_selectors.documented_object("conversation", _conversation_or_404(conversation_id).pk)


@api.get(
    "/conversations/{conversation_id}/messages", response={200: MessagePage, **ERRORS}, tags=["conversations"]
)
def list_messages(
    request,
    conversation_id: PathId,
    after: int = Query(0, ge=0, le=ID_MAX),
    limit: int = Query(100, ge=1, le=500),
):
    """The thread, oldest first, from after the message id `after`: visitor and agent messages,
    private notes and system events (kind)."""
    conversation = _conversation_or_404(conversation_id)
    ids = selectors.message_ids(conversation_id=conversation.pk, after=after, limit=limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    return {
        "data": webhook_selectors.documented_objects("message", ids),
        "next_after": ids[-1] if more else None,
    }


class ReplyIn(Input):
    body: str = Field(min_length=1, max_length=inbox_services.MESSAGE_MAX_CHARS)
    private: StrictBool = Field(False, description="A private note: agents see it, the visitor does not.")
    client_id: UUID | None = Field(
        None, description="A UUID of yours: sending the same one again stores nothing."
    )


@api.post(
    "/conversations/{conversation_id}/messages",
    response={201: MessageOut, **WRITE_ERRORS},
    tags=["conversations"],
)
def post_message(request, conversation_id: PathId, reply: ReplyIn):
    """Reply as the member who made the key (or write a private note); the visitor sees a reply live."""
    author = _key_member(request)
    conversation = _conversation_or_404(conversation_id)
    message = inbox_services.message_from_agent(
        conversation=conversation,
        author=author,
        body=reply.body,
        client_id=reply.client_id,
        private=reply.private,
    )
    return Status(201, webhook_selectors.documented_object("message", message.pk))


class StatusIn(Input):
    status: Literal["open", "pending", "snoozed", "resolved"]
    snoozed_until: DateTimeIn | None = Field(None, description="Required with snoozed: when it reopens.")


@api.post(
    "/conversations/{conversation_id}/status",
    response={200: ConversationOut, **WRITE_ERRORS},
    tags=["conversations"],
)
def set_status(request, conversation_id: PathId, change: StatusIn):
    author = _key_member(request)
    conversation = inbox_services.conversation_status_set(
        conversation=_conversation_or_404(conversation_id),
        status=change.status,
        by=author,
        snoozed_until=change.snoozed_until,
    )
    return webhook_selectors.documented_object("conversation", conversation.pk)


class AssigneeIn(Input):
    assignee_id: IdIn | None = Field(description="A member's user id, or null to unassign.")


@api.post(
    "/conversations/{conversation_id}/assignee",
    response={200: ConversationOut, **WRITE_ERRORS},
    tags=["conversations"],
)
def set_assignee(request, conversation_id: PathId, change: AssigneeIn):
    author = _key_member(request)
    conversation = _conversation_or_404(conversation_id)
    assignee = None
    if change.assignee_id is not None:
        membership = Membership.objects.filter(
            workspace=request.workspace, user_id=change.assignee_id
        ).first()
        if membership is None:
            raise ApiError(400, "not_a_member", "assignee_id is not a member of this workspace.")
        assignee = membership.user
    conversation = inbox_services.conversation_assign(conversation=conversation, assignee=assignee, by=author)
    return webhook_selectors.documented_object("conversation", conversation.pk)


@api.get("/contacts", response={200: ContactPage, **ERRORS}, tags=["contacts"])
def list_contacts(
    request,
    cursor: str | None = Query(None, pattern=r"^[0-9]+$", description="next_cursor of the page before."),
    limit: int = Query(25, ge=1, le=100),
    email: str = Query("", max_length=254, description="Only the contact with this email (or external id)."),
):
    """Contacts, newest first, a page at a time."""
    before = min(int(cursor), ID_MAX) if cursor else None
    ids = selectors.contact_ids(before=before, limit=limit + 1, query=email.strip())
    more = len(ids) > limit
    ids = ids[:limit]
    return {
        "data": webhook_selectors.documented_objects("contact", ids),
        "next_cursor": str(ids[-1]) if more else None,
    }


@api.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, tags=["contacts"])
def get_contact(request, contact_id: PathId):
    found = webhook_selectors.documented_object("contact", contact_id)
    if found is None:
        raise Http404("No such contact.")
    return found


# --- Webhook endpoints


EventTypeName = Literal[tuple(EventType.values)]  # type: ignore[valid-type]


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    include_private_notes: bool
    enabled: bool
    disabled_reason: str
    failing_since: Timestamp | None
    created_at: Timestamp


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="The signing secret (whsec_…), returned only this once.")


class EndpointSecretOut(Schema):
    secret: str = Field(description="The new signing secret; the old one also signs for 24 hours.")


class EndpointIn(Input):
    url: str = Field(max_length=2000)
    description: str = Field("", max_length=200)
    event_types: list[EventTypeName] = Field(min_length=1)
    include_private_notes: StrictBool = False


class EndpointPatch(Input):
    url: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=200)
    event_types: list[EventTypeName] | None = Field(None, min_length=1)
    include_private_notes: StrictBool | None = None
    enabled: StrictBool | None = Field(None, description="true sends what waited while it was disabled.")


def _endpoint_or_404(endpoint_id: int) -> Endpoint:
    endpoint = webhook_selectors.endpoint_by_id(endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


@api.get("/webhook-endpoints", response={200: list[EndpointOut], **ERRORS}, tags=["webhooks"])
def list_endpoints(request):
    return list(webhook_selectors.endpoints_of_workspace())


@api.post(
    "/webhook-endpoints", response={201: EndpointCreatedOut, **WRITE_ERRORS, 402: ErrorOut}, tags=["webhooks"]
)
def create_endpoint(request, body: EndpointIn):
    _write_scope(request)
    endpoint, secret = webhook_services.endpoint_create(**body.dict())
    return Status(201, {**EndpointOut.from_orm(endpoint).dict(), "secret": secret})


@api.get("/webhook-endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS}, tags=["webhooks"])
def get_endpoint(request, endpoint_id: PathId):
    return _endpoint_or_404(endpoint_id)


@api.patch("/webhook-endpoints/{endpoint_id}", response={200: EndpointOut, **WRITE_ERRORS}, tags=["webhooks"])
def update_endpoint(request, endpoint_id: PathId, body: EndpointPatch):
    _write_scope(request)
    endpoint = _endpoint_or_404(endpoint_id)
    changes = body.dict(exclude_none=True)  # absent or null: unchanged
    enabled = changes.pop("enabled", None)
    if changes:
        current = {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "include_private_notes": endpoint.include_private_notes,
        }
        endpoint = webhook_services.endpoint_update(endpoint=endpoint, **(current | changes))
    if enabled is True and not endpoint.enabled:
        webhook_services.endpoint_enable(endpoint=endpoint)
    elif enabled is False and endpoint.enabled:
        webhook_services.endpoint_disable(endpoint=endpoint, reason="Turned off through the API.")
    return _endpoint_or_404(endpoint_id)


@api.delete("/webhook-endpoints/{endpoint_id}", response={204: None, **WRITE_ERRORS}, tags=["webhooks"])
def delete_endpoint(request, endpoint_id: PathId):
    _write_scope(request)
    webhook_services.endpoint_delete(endpoint=_endpoint_or_404(endpoint_id))
    return Status(204, None)


@api.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response={200: EndpointSecretOut, **WRITE_ERRORS, 409: ErrorOut},
    tags=["webhooks"],
)
def rotate_endpoint_secret(request, endpoint_id: PathId):
    _write_scope(request)
    return {"secret": webhook_services.endpoint_secret_rotate(endpoint=_endpoint_or_404(endpoint_id))}
