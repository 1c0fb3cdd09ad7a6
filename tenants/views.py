"""Pages about workspaces: the public chooser, a workspace's settings, and host handoffs. A workspace's
overview shows the inbox's first steps, so it is inbox/home_views.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tenants import app_settings, selectors, services
from tenants.exceptions import HandoffInvalid, WorkspaceError, WorkspaceSlugInvalid, WorkspaceSlugTaken
from tenants.forms import WorkspaceSettingsForm
from tenants.models import Membership

# --- Public host


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "public/landing.html")


@login_required
def workspace_list(request: HttpRequest) -> HttpResponse:
    memberships = list(selectors.memberships_of_user(user=request.user))
    return render(request, "public/workspace_list.html", {"memberships": memberships})


@require_POST
@login_required
def workspace_open(request: HttpRequest, slug: str) -> HttpResponse:
    """Carry the signed-in user over to one of their workspaces (public host or another workspace)."""
    membership = selectors.memberships_of_user(user=request.user).filter(workspace__slug=slug).first()
    if membership is None:
        raise Http404("No such workspace.")
    return HttpResponseRedirect(services.handoff_url(user=request.user, workspace=membership.workspace))


# --- Workspace host


@require_GET
def handoff(request: HttpRequest) -> HttpResponse:
    try:
        user = services.handoff_redeem(raw_token=request.GET.get("token", ""), workspace=request.workspace)
    except HandoffInvalid as exc:
        return render(request, "workspace/handoff_invalid.html", {"reason": str(exc)}, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("workspace_home")


def workspace_settings(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    if membership.role != Membership.Role.OWNER:
        return render(request, "workspace/forbidden.html", status=403)
    workspace = request.workspace
    form = WorkspaceSettingsForm(
        request.POST or None, initial={"name": workspace.name, "slug": workspace.slug}
    )
    if request.method == "POST" and form.is_valid():
        old_slug = workspace.slug
        try:
            services.workspace_update(
                workspace=workspace,
                by=membership,
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
            )
        except WorkspaceError as exc:
            form.add_error(
                "slug" if isinstance(exc, (WorkspaceSlugInvalid, WorkspaceSlugTaken)) else None, str(exc)
            )
        else:
            if workspace.slug != old_slug:
                # The session cookie belongs to the old host: carry the owner over to the new one.
                return HttpResponseRedirect(services.handoff_url(user=request.user, workspace=workspace))
            messages.success(request, "Workspace saved.")
            return redirect("workspace_settings")
    return render(
        request,
        "workspace/settings.html",
        {"form": form, "base_domain": app_settings.workspace_hostname("")},
    )
