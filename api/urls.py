"""The REST API and the page of its keys, on a workspace host."""

from django.urls import path

from api import key_views as api_key_views
from api.rest import api

urlpatterns = [
    path("settings/api-keys/", api_key_views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke/", api_key_views.api_key_revoke, name="api_key_revoke"),
    path("api/v1/", api.urls),
]
