"""The tenants services on real PostgreSQL: slugs, the spare-schema pool, renames, handoffs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from tenants import selectors, services
from tenants.exceptions import HandoffInvalid, WorkspaceRoleRequired, WorkspaceSlugInvalid, WorkspaceSlugTaken
from tenants.models import Domain, Membership, Workspace, WorkspaceHandoff
from tenants.services import workspaces as workspace_services

pytestmark = pytest.mark.django_db


def _user(email: str) -> User:
    return User.objects.create_user(email, "irrelevant-password")


@pytest.mark.parametrize("slug", ["abc", "acme-support", "a1b2", "x" * 40, "  Mixed-Case  "])
def test_slug_validate_accepts_and_normalises(slug):
    assert services.workspace_slug_validate(slug) == slug.strip().lower()


@pytest.mark.parametrize(
    "slug", ["", "ab", "x" * 41, "under_score", "dot.ted", "-lead", "trail-", "a--b", "ünï"]
)
def test_slug_validate_refuses_malformed(slug):
    with pytest.raises(WorkspaceSlugInvalid):
        services.workspace_slug_validate(slug)


def test_slug_validate_refuses_reserved_and_extra_reserved(settings):
    with pytest.raises(WorkspaceSlugInvalid, match="reserved"):
        services.workspace_slug_validate("www")
    settings.PARLEY_EXTRA_RESERVED_SLUGS = ["acme"]
    with pytest.raises(WorkspaceSlugInvalid, match="reserved"):
        services.workspace_slug_validate("acme")


def test_slug_validate_refuses_localhost_and_the_labels_of_the_base_domain(settings):
    with pytest.raises(WorkspaceSlugInvalid, match="reserved"):
        services.workspace_slug_validate("LocalHost")
    # As config/settings/base.py derives it from PARLEY_PUBLIC_URL.
    settings.PARLEY_PUBLIC_URL, settings.PARLEY_BASE_DOMAIN = "https://chat.example.com", "chat.example.com"
    for label in ("chat", "example", "com", " Example "):
        with pytest.raises(WorkspaceSlugInvalid, match="reserved"):
            services.workspace_slug_validate(label)
    assert services.workspace_slug_validate("chatter") == "chatter"
    assert services.workspace_slug_validate("example-shop") == "example-shop"


def test_slug_validate_refuses_taken(workspace_a):
    with pytest.raises(WorkspaceSlugTaken):
        services.workspace_slug_validate(workspace_a.slug.upper())


def test_pool_refill_tops_up_to_target_and_no_further():
    assert services.spare_pool_refill(target=2) == 2
    assert services.spare_pool_refill(target=2) == 0
    spares = list(Workspace.objects.filter(claimed_at__isnull=True))
    assert len(spares) == 2
    assert all(s.slug is None and not Domain.objects.filter(tenant=s).exists() for s in spares)


def test_pool_refill_skips_while_another_worker_holds_the_lock():
    with connection.cursor() as cursor:
        # A second session stands for another worker in the middle of a refill.
        import psycopg

        from config.settings.test import DATABASES

        db = DATABASES["default"]
        other = psycopg.connect(
            dbname=connection.settings_dict["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"]
        )
        other.execute("SELECT pg_advisory_lock(%s)", [workspace_services._POOL_REFILL_LOCK])
        try:
            assert services.spare_pool_refill(target=3) == 0
        finally:
            other.close()
        cursor.execute("SELECT 1")
    assert services.spare_pool_refill(target=1) == 1


def test_workspace_create_takes_the_oldest_spare_and_leaves_the_rest():
    first, second = services.spare_schema_provision(), services.spare_schema_provision()

    workspace = services.workspace_create(owner=_user("o@example.com"), name="One", slug="one")

    assert workspace.pk == first.pk
    assert list(Workspace.objects.filter(claimed_at__isnull=True)) == [second]


def test_a_slug_taken_between_validation_and_claim_is_reported_and_the_spare_kept():
    spare = services.spare_schema_provision()
    taken_by = _user("first@example.com")
    services.workspace_create(owner=taken_by, name="First", slug="contested")  # takes `spare`
    late = services.spare_schema_provision()

    with pytest.raises(WorkspaceSlugTaken):
        # Straight to the claim, as a sign-up that validated before the first one committed.
        workspace_services._workspace_claim(
            spare=late, owner=_user("second@example.com"), name="Second", slug="contested"
        )

    assert Workspace.objects.get(slug="contested").pk == spare.pk
    late.refresh_from_db()
    assert late.is_spare


def test_workspace_update_renames_and_moves_the_domain(workspace_a, owner_a):
    owner = Membership.objects.get(user=owner_a, workspace=workspace_a)
    schema = workspace_a.schema_name

    services.workspace_update(workspace=workspace_a, by=owner, name="Alpha Help", slug="alpha-help")

    workspace_a.refresh_from_db()
    assert (workspace_a.name, workspace_a.slug, workspace_a.schema_name) == (
        "Alpha Help",
        "alpha-help",
        schema,
    )
    assert Domain.objects.get(tenant=workspace_a).domain == "alpha-help.localhost"
    assert selectors.workspace_for_hostname("alpha.localhost") is None


def test_workspace_update_is_for_owners_only(workspace_a):
    agent = _user("agent@example.com")
    membership = Membership.objects.create(user=agent, workspace=workspace_a, role=Membership.Role.ADMIN)
    with pytest.raises(WorkspaceRoleRequired):
        services.workspace_update(
            workspace=workspace_a, by=membership, name="Hijacked", slug=workspace_a.slug
        )


def test_workspace_update_refuses_a_taken_slug(workspace_a, workspace_b, owner_a):
    owner = Membership.objects.get(user=owner_a, workspace=workspace_a)
    with pytest.raises(WorkspaceSlugTaken):
        services.workspace_update(workspace=workspace_a, by=owner, name="A", slug=workspace_b.slug)


def test_handoff_is_single_use_short_lived_and_bound_to_its_workspace(workspace_a, workspace_b, owner_a):
    token = services.handoff_create(user=owner_a, workspace=workspace_a)
    with pytest.raises(HandoffInvalid):
        services.handoff_redeem(raw_token=token, workspace=workspace_b)
    assert services.handoff_redeem(raw_token=token, workspace=workspace_a) == owner_a
    with pytest.raises(HandoffInvalid):
        services.handoff_redeem(raw_token=token, workspace=workspace_a)

    expired = services.handoff_create(user=owner_a, workspace=workspace_a)
    WorkspaceHandoff.objects.filter(used_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(HandoffInvalid):
        services.handoff_redeem(raw_token=expired, workspace=workspace_a)

    assert not WorkspaceHandoff.objects.filter(token_hash=token).exists()  # only the hash is stored


def test_handoff_refuses_non_members_and_removed_members(workspace_a, workspace_b, owner_a):
    with pytest.raises(HandoffInvalid):
        services.handoff_create(user=owner_a, workspace=workspace_b)
    token = services.handoff_create(user=owner_a, workspace=workspace_a)
    Membership.objects.filter(user=owner_a, workspace=workspace_a).delete()
    with pytest.raises(HandoffInvalid):
        services.handoff_redeem(raw_token=token, workspace=workspace_a)
