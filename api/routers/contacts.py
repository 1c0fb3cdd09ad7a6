"""/contacts: the workspace's contacts, newest first, or the one with an email or external id."""

from __future__ import annotations

from django.http import Http404
from ninja import Query, Router

from api import selectors
from api.schemas import ERRORS, ContactOut, ContactPage, PathId
from config.request_input import ID_MAX
from webhooks import selectors as webhook_selectors

router = Router(tags=["contacts"])


@router.get("", response={200: ContactPage, **ERRORS})
def list_contacts(
    request,
    cursor: str | None = Query(None, pattern=r"^[0-9]+$", description="next_cursor of the page before."),
    limit: int = Query(25, ge=1, le=100),
    email: str = Query("", max_length=254, description="Only the contact with this email (or external id)."),
):
    """Contacts, newest first, a page at a time."""
    before = min(int(cursor), ID_MAX) if cursor else None
    ids = selectors.contact_ids(before=before, limit=limit + 1, query=email.strip())
    more = len(ids) > limit
    ids = ids[:limit]
    return {
        "data": webhook_selectors.documented_objects("contact", ids),
        "next_cursor": str(ids[-1]) if more else None,
    }


@router.get("/{contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request, contact_id: PathId):
    found = webhook_selectors.documented_object("contact", contact_id)
    if found is None:
        raise Http404("No such contact.")
    return found
