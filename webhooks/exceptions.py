class EndpointInvalid(Exception):
    """An endpoint's URL, event types or description cannot be used; the message says why."""

    code = "invalid_endpoint"
    status = 400


class SecretsStillSigning(EndpointInvalid):
    """A rotation refused: as many replaced secrets as a delivery may carry are still signing."""

    code = "too_many_secrets"
    status = 409
