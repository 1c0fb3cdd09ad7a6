"""Base settings, with an embedded PostgreSQL and Redis under .data/ for whichever of DATABASE_URL and
REDIS_URL is unset: local.py and test.py build on this, so `make run`, `make test` and manage.py work
on a machine with neither server.

Importing this module starts those servers if they are not running (config/embedded_services.py);
they outlive the process until `make stop-services`. base.py starts nothing, and production.py never
imports this module.
"""

from django.core.exceptions import ImproperlyConfigured

from config import embedded_services

from .base import *  # noqa: F403
from .base import (
    DATABASE_URL,
    REDIS_KEY_PREFIX,
    REDIS_URL,
    cache_settings,
    channel_layer_settings,
    database_settings,
    env,
)

# false: a missing URL is an error here too, as in production.
EMBEDDED_SERVICES = env.bool("PARLEY_EMBEDDED_SERVICES", default=True)

if not DATABASE_URL:
    if not EMBEDDED_SERVICES:
        raise ImproperlyConfigured("DATABASE_URL is required here (embedded services are off)")
    _pg = embedded_services.ensure_postgres()
    DATABASES = {
        "default": database_settings(
            {
                "NAME": embedded_services.DATABASE_NAME,
                "USER": _pg.user,
                "HOST": _pg.socket_dir,
                "PORT": str(_pg.port),
            }
        )
    }

if not REDIS_URL:
    if not EMBEDDED_SERVICES:
        raise ImproperlyConfigured("REDIS_URL is required here (embedded services are off)")
    REDIS_URL = embedded_services.ensure_redis()
    CACHES = {"default": cache_settings(REDIS_URL, REDIS_KEY_PREFIX)}
    CHANNEL_LAYERS = {"default": channel_layer_settings(REDIS_URL, REDIS_KEY_PREFIX)}
