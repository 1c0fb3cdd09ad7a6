"""A visitor of a website of workspace alpha, inside its schema, for the service tests."""

import pytest

from inbox import services
from tenants.context import workspace_schema


@pytest.fixture
def visitor(workspace_a):
    with workspace_schema(workspace_a.schema_name):
        website, _ = services.website_create(
            workspace=workspace_a, name="S", allowed_origins="https://s.example"
        )
        contact, _ = services.contact_for_visitor(website=website, token=None, page_url="https://s.example/")
        yield contact
