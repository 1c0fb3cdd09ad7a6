from django.http import HttpRequest

from tenants import app_settings


def workspace(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    return {
        # Only members see which workspace this host is: a login page or a 404 names nothing.
        "workspace": request.workspace if membership is not None else None,
        "membership": membership,
        "public_url": app_settings.public_url(),
    }
