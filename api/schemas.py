"""What the REST API takes and gives: its inputs, its objects (the shapes of webhook payloads,
webhooks/sql/webhook_*_data.sql, documented in the README), its pages and its error body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Path, Schema
from pydantic import BeforeValidator, ConfigDict, PlainValidator, StrictBool, WithJsonSchema

from config.request_input import ID_MAX
from inbox import services as inbox_services
from webhooks.models import EventType

# --- Input: exactly as documented. Unknown fields, a number for a flag or a time, are refused (422)
# rather than guessed at; query parameters the API does not know are ignored.


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


# Ids are PostgreSQL bigints: one outside their range (ID_MAX, as for pages and sockets) is malformed
# input (422), never sent on.
IdIn = Annotated[int, Field(ge=1, le=ID_MAX), BeforeValidator(_whole_number)]
DateTimeIn = Annotated[
    datetime, PlainValidator(_rfc3339), WithJsonSchema({"type": "string", "format": "date-time"})
]

PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
OptionalId = Annotated[int | None, Field(ge=1, le=ID_MAX)]


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


class ReplyIn(Input):
    body: str = Field(min_length=1, max_length=inbox_services.MESSAGE_MAX_CHARS)
    private: StrictBool = Field(False, description="A private note: agents see it, the visitor does not.")
    client_id: UUID | None = Field(
        None, description="A UUID of yours: sending the same one again stores nothing."
    )


class StatusIn(Input):
    status: Literal["open", "pending", "snoozed", "resolved"]
    snoozed_until: DateTimeIn | None = Field(None, description="Required with snoozed: when it reopens.")


class AssigneeIn(Input):
    assignee_id: IdIn | None = Field(description="A member's user id, or null to unassign.")


EventTypeName = Literal[tuple(EventType.values)]  # type: ignore[valid-type]


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


# --- Objects (the shapes of webhooks/sql/webhook_*_data.sql, documented in the README)


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


# --- Pages


class ConversationPage(Schema):
    data: list[ConversationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class MessagePage(Schema):
    data: list[MessageOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last.")


class ContactPage(Schema):
    data: list[ContactOut]
    next_cursor: str | None


# --- Errors (written by api.errors.error_response)


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


# 403 on every operation: a key whose maker left or is no longer an owner or admin is refused, and
# every key of a suspended workspace (`workspace_suspended`).
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS = {**ERRORS, 400: ErrorOut, 413: ErrorOut}
