"""Websites: created with their site key and identity secret, changed, rotated, deleted."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from billing import limits
from inbox.models import Website
from inbox.origins import origins_parse
from tenants import secret_box
from tenants.models import SiteKey, Workspace


def _new_site_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def website_create(
    *, workspace: Workspace, name: str, allowed_origins: str, **appearance: Any
) -> tuple[Website, str]:
    """Create a website with a fresh site key; returns it and its identity secret, shown only this once."""
    origins = origins_parse(allowed_origins)
    identity_secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        limits.limit_check(limits.WEBSITES, workspace)
        website = Website.objects.create(
            name=name.strip(),
            site_key=_new_site_key(),
            allowed_origins=origins,
            identity_secret_sealed=secret_box.seal(identity_secret),
            **appearance,
        )
        SiteKey.objects.create(key=website.site_key, workspace=workspace, website_id=website.pk)
    return website, identity_secret


def website_update(*, website: Website, allowed_origins: str | None = None, **fields: Any) -> Website:
    """Change a website's name, origins or appearance."""
    if allowed_origins is not None:
        website.allowed_origins = origins_parse(allowed_origins)
    for name, value in fields.items():
        setattr(website, name, value)
    website.save()
    return website


def website_site_key_rotate(*, website: Website) -> Website:
    """Give a website a new site key; the old one stops working at once (the snippet must change)."""
    with transaction.atomic():
        new_key = _new_site_key()
        SiteKey.objects.filter(key=website.site_key).update(key=new_key)
        website.site_key = new_key
        website.save(update_fields=["site_key"])
    return website


def website_identity_secret_rotate(*, website: Website) -> str:
    """Replace the identity-verification secret; returns the new one, shown only this once."""
    identity_secret = secrets.token_urlsafe(32)
    website.identity_secret_sealed = secret_box.seal(identity_secret)
    website.save(update_fields=["identity_secret_sealed"])
    return identity_secret


def website_delete(*, website: Website) -> None:
    with transaction.atomic():
        SiteKey.objects.filter(key=website.site_key).delete()
        website.delete()
