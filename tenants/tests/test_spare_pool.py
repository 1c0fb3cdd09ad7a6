"""A workspace from the spare pool is indistinguishable from one migrated at sign-up."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import User
from tenants import services
from tenants.models import Workspace
from tenants.schema_fingerprint import schema_fingerprint

pytestmark = pytest.mark.django_db


def _fresh_schema() -> str:
    workspace = Workspace(schema_name="ws_freshly_migrated")
    workspace.save(verbosity=0)  # CREATE SCHEMA and every tenant migration, right now
    return workspace.schema_name


def test_a_pooled_workspace_has_exactly_the_schema_of_a_freshly_migrated_one():
    services.spare_schema_provision()
    pooled = services.workspace_create(
        owner=User.objects.create_user("pool@example.com", "irrelevant"), name="Pooled", slug="pooled"
    )
    fresh = _fresh_schema()

    pooled_print, fresh_print = schema_fingerprint(pooled.schema_name), schema_fingerprint(fresh)

    assert pooled_print == fresh_print
    # The comparison is not vacuous: there are tables and applied migrations to compare.
    assert ("django_migrations", "id", "bigint") in {row[:3] for row in pooled_print["columns"]}
    assert ("tenants", "0001_initial") in pooled_print["migrations"]
    # Functions are pinned to their own schema (search_path=<schema>, public), never another's.
    pinned = {
        name for name, _, _, config in pooled_print["functions"] if config == "search_path=<schema>, public"
    }
    assert pinned == {name for name, *_ in pooled_print["functions"]}
    assert {"visitor_message_write", "webhook_event_record", "webhook_deliveries_enqueue"} <= pinned


def test_the_fingerprint_sees_a_difference():
    services.spare_schema_provision()
    spare = Workspace.objects.get(claimed_at__isnull=True)
    before = schema_fingerprint(spare.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{spare.schema_name}".extra (id int CONSTRAINT extra_pk PRIMARY KEY)')
    after = schema_fingerprint(spare.schema_name)
    assert before != after
    assert ("extra", "extra_pk", "p", "PRIMARY KEY (id)") in after["constraints"]


def test_migrate_schemas_keeps_spares_current():
    # migrate_schemas walks every row of the tenant model, spares included.
    from django.core.management import call_command

    spare = services.spare_schema_provision()
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{spare.schema_name}".django_migrations')  # noqa: S608 - our own name
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0, fake=True)
    fresh = _fresh_schema()
    assert schema_fingerprint(spare.schema_name)["migrations"] == schema_fingerprint(fresh)["migrations"]
