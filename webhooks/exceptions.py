class EndpointInvalid(Exception):
    """An endpoint's URL, event types or description cannot be used; the message says why."""

    code = "invalid_endpoint"
