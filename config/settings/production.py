"""Production: every secret and host from the environment, HTTPS only."""

import os

# Never start a PostgreSQL or Redis of our own in production: DATABASE_URL and REDIS_URL must be set.
os.environ.setdefault("PARLEY_EMBEDDED_SERVICES", "0")

from .base import *  # noqa: F403
from .base import PARLEY_URL_SCHEME, env

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
