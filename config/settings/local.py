"""Development on one machine: `make run`."""

from .embedded import *  # noqa: F403
from .embedded import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-3f9a1c7e5b2d48e6a0c1f7d9e2b4a6c8")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the app folders: no collectstatic step outside production.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
