"""The console's suspension and deletion actions on a workspace (POST only, from its page): suspend,
unsuspend, delete with its address typed to confirm, restore. Each goes back to the workspace's
page, with a message saying what was done or why it could not be (the workspace was not in the state
the page showed); or, for bad input, shows that page again with the form's errors (400, as the console's
other actions do)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from staff import services
from staff.permissions import staff_only
from staff.suspension_forms import suspension_context, suspension_form
from staff.views import workspace_of, workspace_page


def _act(request: HttpRequest, workspace_id: int, name: str, action: Callable, done: str) -> HttpResponse:
    workspace = workspace_of(workspace_id)
    form = suspension_form(name, request.POST)
    if form.is_valid():
        try:
            action(
                staff=request.user,
                workspace=workspace,
                ip_address=request.META.get("REMOTE_ADDR"),
                **form.cleaned_data,
            )
        except services.SlugNotConfirmed as exc:
            form.add_error("slug", str(exc))
        except services.StaffError as exc:
            # The workspace is not in the state the page showed (another staff member acted, or the
            # deletion came due): its page, as it is now, says why, with the actions it allows now.
            messages.error(request, str(exc))
            return redirect("staff_workspace", workspace_id=workspace.pk)
        else:
            messages.success(request, done.format(name=workspace.name))
            return redirect("staff_workspace", workspace_id=workspace.pk)
    # The first field in error takes the focus: the browser scrolls the form, low on the page, to it.
    for field in (field for field in form.fields if field in form.errors):
        form.fields[field].widget.attrs["autofocus"] = True
        break
    return workspace_page(request, workspace.pk, forms=suspension_context(**{name: form}), status=400)


def _slug_typed(action: Callable) -> Callable:
    # The form's `slug` is what was typed; the service compares it with the workspace's own.
    return lambda *, slug, **rest: action(slug_typed=slug, **rest)


@staff_only  # first: anyone else gets a 404 whatever the method
@require_POST
def workspace_suspend(request: HttpRequest, workspace_id: int) -> HttpResponse:
    return _act(request, workspace_id, "suspend", services.workspace_suspend, "{name} is suspended.")


@staff_only
@require_POST
def workspace_unsuspend(request: HttpRequest, workspace_id: int) -> HttpResponse:
    return _act(
        request, workspace_id, "unsuspend", services.workspace_unsuspend,
        "{name} is unsuspended; its held webhook deliveries are on their way.",
    )  # fmt: skip


@staff_only
@require_POST
def workspace_delete(request: HttpRequest, workspace_id: int) -> HttpResponse:
    return _act(
        request, workspace_id, "delete", _slug_typed(services.workspace_delete),
        "{name} is suspended and scheduled for deletion. You can restore it until then.",
    )  # fmt: skip


@staff_only
@require_POST
def workspace_restore(request: HttpRequest, workspace_id: int) -> HttpResponse:
    return _act(
        request, workspace_id, "restore", services.workspace_restore,
        "{name} is restored: no longer scheduled for deletion, and unsuspended.",
    )  # fmt: skip
