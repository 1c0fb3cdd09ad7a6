"""/webhook-endpoints: the workspace's webhook endpoints, made, changed, deleted, their secret rotated."""

from __future__ import annotations

from django.http import Http404
from ninja import Router, Status

from api.auth import require_write_scope
from api.schemas import (
    ERRORS,
    WRITE_ERRORS,
    EndpointCreatedOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    ErrorOut,
    PathId,
)
from webhooks import selectors as webhook_selectors
from webhooks import services as webhook_services
from webhooks.models import Endpoint

router = Router(tags=["webhooks"])


def _endpoint_or_404(endpoint_id: int) -> Endpoint:
    endpoint = webhook_selectors.endpoint_by_id(endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


@router.get("", response={200: list[EndpointOut], **ERRORS})
def list_endpoints(request):
    return list(webhook_selectors.endpoints_of_workspace())


@router.post("", response={201: EndpointCreatedOut, **WRITE_ERRORS, 402: ErrorOut})
def create_endpoint(request, body: EndpointIn):
    require_write_scope(request)
    endpoint, secret = webhook_services.endpoint_create(**body.dict())
    return Status(201, {**EndpointOut.from_orm(endpoint).dict(), "secret": secret})


@router.get("/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def get_endpoint(request, endpoint_id: PathId):
    return _endpoint_or_404(endpoint_id)


@router.patch("/{endpoint_id}", response={200: EndpointOut, **WRITE_ERRORS})
def update_endpoint(request, endpoint_id: PathId, body: EndpointPatch):
    require_write_scope(request)
    endpoint = _endpoint_or_404(endpoint_id)
    webhook_services.endpoint_update(
        endpoint=endpoint,
        **body.dict(exclude_none=True),  # absent or null: unchanged
        disabled_reason="Turned off through the API.",
    )
    return _endpoint_or_404(endpoint_id)


@router.delete("/{endpoint_id}", response={204: None, **WRITE_ERRORS})
def delete_endpoint(request, endpoint_id: PathId):
    require_write_scope(request)
    webhook_services.endpoint_delete(endpoint=_endpoint_or_404(endpoint_id))
    return Status(204, None)


@router.post("/{endpoint_id}/rotate-secret", response={200: EndpointSecretOut, **WRITE_ERRORS, 409: ErrorOut})
def rotate_endpoint_secret(request, endpoint_id: PathId):
    require_write_scope(request)
    return {"secret": webhook_services.endpoint_secret_rotate(endpoint=_endpoint_or_404(endpoint_id))}
