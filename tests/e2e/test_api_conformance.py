"""The REST API against its own OpenAPI document, over real sockets: schemathesis generates requests
for every operation (valid ones and invalid ones) and checks each answer against the document:
no server errors, only documented status codes and content types, bodies in the documented shapes,
invalid input refused and valid input accepted. Its negative data (invalid values, methods an
operation does not have, bodies of other content types) must be refused with 422 (404 for an id
that is not there), and every error answer must be the README's JSON error with one of its codes
(`documented_error`, a check of ours). Bodies too large and paths the API does not have, which
schemathesis does not send, are tried here too.

The app is the live uvicorn server on the test database; the workspace has a conversation, a contact
and a webhook endpoint, so ids in the generated paths can be real as well as unknown.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings

from api import services as key_services
from api.rest import api
from inbox import services as inbox
from tenants.context import run_in_workspace
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alpha_api(live_server_asgi, tx_workspaces):
    """The base URL and headers of alpha's API with a fresh read-write key (a key per operation, so
    the per-key rate limit is never what answers), and a little data to find."""
    workspace = tx_workspaces.alpha

    def seed():
        website, _ = inbox.website_create(workspace=workspace, name="Shop", allowed_origins="")
        contact, _ = inbox.contact_for_visitor(website=website, token=None)
        inbox.message_from_visitor(contact_id=contact.pk, body="Where is my order?")
        webhook_services.endpoint_create(url="https://hooks.example/in", event_types=["message.created"])
        return key_services.api_key_create(name="Conformance", scope="write", by=tx_workspaces.owner_a)[1]

    key = run_in_workspace(workspace.schema_name, seed)
    host = f"{workspace.slug}.localhost:{live_server_asgi.port}"
    return {
        "base_url": f"http://127.0.0.1:{live_server_asgi.port}",  # the document's paths start /api/v1
        "headers": {"Host": host, "Authorization": f"Bearer {key}"},
    }


def test_the_server_publishes_the_document_tested_here(alpha_api):
    published = requests.get(
        alpha_api["base_url"] + "/api/v1/openapi.json",
        headers={"Host": alpha_api["headers"]["Host"]},
        timeout=10,
    )
    assert published.status_code == 200 and published.json() == DOCUMENT


# Built in this process at collection time (schemathesis's fixture-based loading does not run on
# pytest 9); the test above checks the server publishes exactly this document.
DOCUMENT = api.get_openapi_schema(path_prefix="/api/v1")
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            # The API ignores query parameters it does not know, as HTTP APIs commonly do (README).
            "generation": {"allow-extra-parameters": False},
            # 422 is "does not match the document"; 400 is a well-formed request refused by a rule
            # the document cannot state (snoozing needs a time, an assignee must be a member, a
            # webhook URL must be public), with a code saying which: both are documented answers.
            # 5xx is not among them, unlike schemathesis's default.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
                },
                # Invalid input is a 422, never a 400 or a 5xx (404: the id in the path is not there).
                "negative_data_rejection": {"expected-statuses": ["401", "403", "404", "422", "429"]},
            },
        }
    ),
)

# The README's codes (its REST API section) with the status each comes with.
DOCUMENTED_CODES = {
    "unauthorized": {401},
    "insufficient_scope": {403},
    "key_suspended": {403},
    "key_owner_left": {403},
    "workspace_suspended": {403},
    "not_found": {404},
    "method_not_allowed": {405},
    "payload_too_large": {413},
    "invalid_request": {422},
    "rate_limited": {429},
    "invalid_action": {400},
    "invalid_endpoint": {400},
    "not_a_member": {400},
    "too_many_secrets": {409},
    "plan_limit": {402},
    "bad_request": {400},
    "server_error": {500},
}


def assert_documented_error(status: int, content_type: str, body: bytes) -> dict:
    assert content_type.startswith("application/json"), f"{status} answered as {content_type!r}"
    error = json.loads(body)["error"]
    assert status in DOCUMENTED_CODES.get(error["code"], ()), f"{status} with code {error['code']!r}"
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "details"}
    return error


@schemathesis.check
def documented_error(ctx, response, case):
    """Every error answer, to valid and invalid requests alike, is the README's JSON error."""
    if response.status_code >= 400:
        assert_documented_error(
            response.status_code, response.headers.get("content-type", [""])[0], response.content
        )


def test_the_readme_documents_every_code_checked_here():
    readme = (django_settings.BASE_DIR / "README.md").read_text()
    section = readme[readme.index("## REST API") :].split("\n## ", 1)[0]
    assert [code for code in DOCUMENTED_CODES if f"`{code}`" not in section] == []


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same requests on every run: CI fails for a reason, not by chance
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_document_says(case, alpha_api):
    case.call_and_validate(base_url=alpha_api["base_url"], headers=alpha_api["headers"])


def test_the_edges_schemathesis_does_not_reach_answer_the_documented_error(alpha_api):
    """Over uvicorn: a body too large, by its Content-Length or sent in chunks without one; a body
    that is not JSON; a path the API does not have; a method a path does not have."""
    base, headers = alpha_api["base_url"] + "/api/v1", alpha_api["headers"]
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    too_large = b'{"url": "https://hooks.example/' + b"x" * limit + b'", "event_types": ["message.created"]}'

    def in_chunks():
        for start in range(0, len(too_large), 65536):
            yield too_large[start : start + 65536]

    def answer(method: str, path: str, **kwargs) -> tuple[int, dict, requests.Response]:
        response = requests.request(
            method, base + path, headers=headers | kwargs.pop("headers", {}), timeout=30, **kwargs
        )
        error = assert_documented_error(
            response.status_code, response.headers["Content-Type"], response.content
        )
        return response.status_code, error, response

    json_body = {"headers": {"Content-Type": "application/json"}}
    for sent in ({"data": too_large}, {"data": in_chunks()}):
        status, error, _ = answer("POST", "/webhook-endpoints", **json_body, **sent)
        assert (status, error["code"]) == (413, "payload_too_large")
    for body, content_type in (
        ("{nope", "application/json"),
        ("url=https%3A%2F%2Fhooks.example%2F", "application/x-www-form-urlencoded"),
    ):
        status, error, _ = answer(
            "POST", "/webhook-endpoints", data=body, headers={"Content-Type": content_type}
        )
        assert (status, error["code"], error["details"][0]["location"]) == (422, "invalid_request", ["body"])
    status, error, _ = answer("GET", "/nope")
    assert (status, error["code"]) == (404, "not_found")
    status, error, response = answer("PUT", "/webhook-endpoints", json={})
    assert (status, error["code"]) == (405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}
