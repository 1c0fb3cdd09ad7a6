"""Every answer under /api/v1/ that is an error is the documented JSON error, DEBUG on or off: bodies
too large (413), bodies that are not JSON (422), paths and methods the API does not have (404, 405),
unknown hosts, server errors."""

from __future__ import annotations

import json

import pytest
from django.http import HttpResponse, HttpResponseServerError
from django.test import RequestFactory, override_settings

from api.middleware import ApiErrorShapeMiddleware
from api.tests.api_clients import api_client, make_key
from tenants.context import workspace_schema
from webhooks.models import Endpoint

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"]),
]

ENDPOINTS = "/api/v1/webhook-endpoints"


@pytest.fixture
def a(workspace_a, owner_a, debug):
    with override_settings(DEBUG=debug):
        yield api_client("alpha.localhost", make_key(workspace_a, owner_a))


def error_of(response, status: int) -> dict:
    """The error of a documented error answer with this status."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_a_body_over_the_limit_is_413_payload_too_large(a, settings, workspace_a):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"url": "https://hooks.example/" + "x" * limit, "event_types": ["message.created"]})
    error = error_of(a.post(ENDPOINTS, body, content_type="application/json"), 413)
    assert error == {
        "code": "payload_too_large",
        "message": f"A request body may be at most {limit:,} bytes.",
    }
    assert error_of(a.post(ENDPOINTS, b"x" * (limit + 1), content_type="application/json"), 413)
    # One byte under the limit is read (and refused for what it says, not for its size).
    under = a.post(ENDPOINTS, b" " * (limit - 2) + b"{}", content_type="application/json")
    assert error_of(under, 422)["code"] == "invalid_request"
    with workspace_schema(workspace_a.schema_name):
        assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{nope", "application/json"),
        (
            "url=https%3A%2F%2Fhooks.example%2F&event_types=message.created",
            "application/x-www-form-urlencoded",
        ),
        (b'{"url": "\xff"}', "application/json"),  # not UTF-8
        ("[" * 100_000, "application/json"),  # nested deeper than a parser goes
        ("", "application/json"),
        ("[1]", "application/json"),
    ],
    ids=["malformed", "form-encoded", "not-utf8", "too-deep", "empty", "not-an-object"],
)
def test_a_body_that_is_not_the_documented_json_is_422_invalid_request(a, body, content_type):
    error = error_of(a.post(ENDPOINTS, body, content_type=content_type), 422)
    assert error["code"] == "invalid_request" and error["details"]
    assert error["details"][0]["location"][0] == "body"


def test_a_multipart_form_is_422_too(a):
    error = error_of(
        a.post(ENDPOINTS, {"url": "https://hooks.example/", "event_types": "message.created"}), 422
    )
    assert error["code"] == "invalid_request" and error["details"][0]["location"] == ["body"]


def test_a_path_the_api_does_not_have_is_404_not_found_key_or_not(a, workspace_a):
    for client in (a, api_client("alpha.localhost", None)):
        for path in ("/api/v1/nope", "/api/v1/conversations/", "/api/v1/conversations/1/nope", "/api/v1/"):
            response = client.get(path)
            assert error_of(response, 404)["code"] == "not_found"
            assert response["X-Content-Type-Options"] == "nosniff", "the page's other headers stay"
    # On a host that is no workspace, and on the public host, where there is no API at all.
    for host in ("nowhere.localhost", "localhost"):
        assert error_of(api_client(host, None).get("/api/v1/conversations"), 404)["code"] == "not_found"


def test_a_method_the_path_does_not_have_is_405_with_allow(a):
    for method in ("put", "delete", "options"):
        response = getattr(a, method)(ENDPOINTS, "{}", content_type="application/json")
        error = error_of(response, 405)
        assert error["code"] == "method_not_allowed"
        assert set(response["Allow"].split(", ")) == {"GET", "POST"}
        assert method.upper() in error["message"]
    assert set(a.post("/api/v1/webhook-endpoints/1", {}).get("Allow").split(", ")) == {
        "GET",
        "PATCH",
        "DELETE",
    }


def test_a_server_error_is_500_server_error_whatever_page_django_made(debug):
    """A 500 comes from outside any handler of ours (Django's page, or django-ninja's traceback
    when DEBUG is on); the middleware answers it in the documented shape, outside /api/v1/ not."""
    pages = [
        HttpResponseServerError("<h1>Server Error (500)</h1>"),
        HttpResponse("Traceback (most recent call last): …", status=500, content_type="text/plain"),
    ]
    for page in pages:
        middleware = ApiErrorShapeMiddleware(lambda request, page=page: page)
        with override_settings(DEBUG=debug):
            answer = middleware(RequestFactory().get("/api/v1/conversations"))
            assert error_of(answer, 500)["code"] == "server_error"
            assert b"Traceback" not in answer.content
            assert middleware(RequestFactory().get("/inbox/")) is page
