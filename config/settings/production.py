"""Production: every secret and host from the environment, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASE_URL, PARLEY_URL_SCHEME, REDIS_URL, env

# Never a PostgreSQL or Redis of our own in production (only embedded.py starts them, and this module
# builds on base.py): both servers are given.
if not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_URL is required here (production starts no embedded server)")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required here (production starts no embedded server)")

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
if PARLEY_URL_SCHEME != "https":
    raise ValueError("PARLEY_PUBLIC_URL must be an https:// URL in production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# Webhooks go to public https:// addresses only, whatever the environment says.
PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS = False
PARLEY_WEBHOOK_REQUIRE_HTTPS = True
