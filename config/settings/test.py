"""The test suite: real PostgreSQL and Redis, keys apart from a running dev server's."""

from .embedded import *  # noqa: F403
from .embedded import CACHES, CHANNEL_LAYERS, env

SECRET_KEY = "test-only-key-not-secret-0c4b7e2a9d1f6e8b3a5c7d9e1f2a4b6c"  # noqa: S105
DEBUG = False
# Hashing at full strength costs ~0.3 s a user; the suite creates hundreds.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="parley-test")
CACHES["default"]["KEY_PREFIX"] = REDIS_KEY_PREFIX
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{REDIS_KEY_PREFIX}:asgi"
PARLEY_SPARE_SCHEMAS = env.int("PARLEY_SPARE_SCHEMAS", default=1)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the app folders: no collectstatic step outside production.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Every test's event loop opens a pool of its own: one connection, grown as a test needs.
PARLEY_ASYNC_DATABASE_POOL_MIN = env.int("DATABASE_ASYNC_POOL_MIN", default=1)
