"""The REST API, /api/v1/ on a workspace's host: bearer API keys, JSON errors of one shape.

Every error is {"error": {"code": "...", "message": "..."}} ("details" for invalid input); codes are
stable. Errors that never reach an operation (a path or a method the API does not have, a server
error) get the same shape from api.middleware. The workspace is the host's; a key is looked up in
that workspace's schema only, so a key of another workspace, or an id of another workspace's
object, finds nothing.

Keys and rights: api.auth. Errors: api.errors. Inputs and objects: api.schemas. Operations, one
router per resource: api.routers.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.operation import Operation
from ninja.parser import Parser

from api.auth import ApiKeyAuth
from api.errors import BodyUnreadable, add_exception_handlers
from api.routers import contacts, conversations, messages, webhook_endpoints


class JsonBodyParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        # django-ninja turns whatever this raises into HttpError(400) raised from it; _http_error
        # (api.errors) finds this exception as its cause and answers the documented 422.
        try:
            return super().parse_body(request)
        except (ValueError, RecursionError) as exc:
            raise BodyUnreadable(f"The body is not JSON: {exc}"[:200]) from exc


# What each operation's 403 may be, in the document (django-ninja would say only "Forbidden").
FORBIDDEN_DESCRIPTION = (
    "Forbidden. `workspace_suspended`: the workspace is suspended, and every operation is refused "
    "until it is unsuspended (nothing in it was deleted). `key_suspended`, `key_owner_left`: the key's "
    "maker may not act now. `insufficient_scope`: a read-only key, for a write."
)


class ParleyApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                forbidden = operation.get("responses", {}).get(403)  # django-ninja's keys are numbers
                if forbidden is not None:
                    forbidden["description"] = FORBIDDEN_DESCRIPTION
        return schema

    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Clients generated from the document name their methods after the operationIds, so they
        # stay as first published, when every operation was in the module api.api (django-ninja
        # names them after the module), wherever the operation is now.
        return f"api_api_{operation.view_func.__name__}"


api = ParleyApi(
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
add_exception_handlers(api)
api.add_router("/conversations", conversations.router)
api.add_router("/conversations", messages.router)
api.add_router("/contacts", contacts.router)
api.add_router("/webhook-endpoints", webhook_endpoints.router)
