import pytest

from api.tests.api_clients import api_client, make_key


@pytest.fixture
def a(workspace_a, owner_a):
    """A client of workspace A's API with a read-write key its owner made."""
    return api_client("alpha.localhost", make_key(workspace_a, owner_a))
