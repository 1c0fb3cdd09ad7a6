"""Export files go to a folder of each test's own; staff users and their logged-in client come from the
staff console's tests."""

from __future__ import annotations

import pytest

from staff.tests.conftest import staff_client, staff_user  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.PARLEY_EXPORT_DIR = tmp_path / "exports"
    return settings.PARLEY_EXPORT_DIR
