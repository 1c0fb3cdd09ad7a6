class InboxError(Exception):
    """Base of the inbox services' errors: `code` is stable (clients get it), the message is for people;
    `http_status` is what the widget's HTTP fallback answers with."""

    code = "invalid"
    http_status = 400


class WebsiteOriginInvalid(InboxError):
    code = "origin_invalid"


class MessageInvalid(InboxError):
    code = "invalid_message"


class MessageTooLong(InboxError):
    code = "too_long"


class IdentityRefused(InboxError):
    code = "identity_refused"


class VisitorUnknown(InboxError):
    code = "unknown_visitor"
    http_status = 401


class VisitorRateLimited(InboxError):
    """Too many messages from this visitor or address: try again in a moment."""

    code = "rate_limited"
    http_status = 429


class AssigneeNotMember(InboxError):
    code = "not_a_member"


class ConversationActionInvalid(InboxError):
    code = "invalid_action"


class InboxSettingInvalid(InboxError):
    """A label, canned response or inbox setting that cannot be saved as given."""

    code = "invalid_setting"
