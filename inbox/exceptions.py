class InboxError(Exception):
    """Base of the inbox services' errors: `code` is stable (clients get it), the message is for people."""

    code = "invalid"


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


class ConversationActionInvalid(InboxError):
    code = "invalid_action"


class InboxSettingInvalid(InboxError):
    """A label, canned response or inbox setting that cannot be saved as given."""

    code = "invalid_setting"
