"""Every error answer under /api/v1/ in the documented shape, including those no operation gives.

The API's own handlers (api.errors) shape what operations raise. Some answers never pass through
them: a path the API does not have (Django's 404 page), a method an operation does not have
(django-ninja answers 405 in plain text), an unknown host, a server error (Django's 500 page, or
the traceback django-ninja returns when DEBUG is on). This middleware gives those the JSON shape,
keeping their status and headers (Allow on a 405). The traceback is still logged, as for any 500.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from api.errors import CODE_OF_STATUS, error_response

API_PREFIX = "/api/v1/"
_MESSAGES = {
    400: "The request could not be read.",
    404: "No such path in this API; the operations are listed at /api/v1/docs.",
    500: "Something went wrong on our side; it has been logged.",
}
_BODY_HEADERS = {"content-type", "content-length"}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and f"{request.path}/".startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return _documented(request, response)
        return response


def _documented(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    status = response.status_code
    if status == 405:
        message = (
            f"{request.method} is not an operation of this path; it has {response.get('Allow', 'none')}."
        )
    else:
        message = _MESSAGES.get(status) or response.reason_phrase
    code = CODE_OF_STATUS.get(status) or CODE_OF_STATUS[400 if status < 500 else 500]
    # Its headers stay (Allow, and those the security middleware added); only the body changes.
    headers = {name: value for name, value in response.items() if name.lower() not in _BODY_HEADERS}
    documented = error_response(request, status, code, message, headers)
    documented.cookies = response.cookies
    return documented
