"""Settings shared by every environment; everything deployment-specific is read here, from the environment."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from config.edge import trusted_networks
from config.embedded_services import PROJECT_DIR

BASE_DIR = PROJECT_DIR
env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env("DJANGO_ENV", default="local")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")

# --- Hosts: the public site on PARLEY_BASE_DOMAIN, each workspace on <slug>.PARLEY_BASE_DOMAIN
PARLEY_PUBLIC_URL = env("PARLEY_PUBLIC_URL", default="http://localhost:8000").rstrip("/")
_public = urlsplit(PARLEY_PUBLIC_URL)
PARLEY_BASE_DOMAIN = (_public.hostname or "localhost").lower()
PARLEY_URL_SCHEME = _public.scheme
PARLEY_URL_PORT_SUFFIX = f":{_public.port}" if _public.port else ""
ALLOWED_HOSTS = [PARLEY_BASE_DOMAIN, f".{PARLEY_BASE_DOMAIN}"]

# Our own reverse proxies (addresses or CIDR blocks): X-Forwarded-For names the client only when it
# comes from one of them (config/edge.py). Empty: nothing is trusted, the peer is the client.
PARLEY_TRUSTED_PROXIES = [e.strip() for e in env.list("PARLEY_TRUSTED_PROXIES", default=[]) if e.strip()]
try:
    trusted_networks(PARLEY_TRUSTED_PROXIES)
except ValueError as exc:
    raise ImproperlyConfigured(f"PARLEY_TRUSTED_PROXIES: {exc}") from None

# Fernet keys that encrypt secrets we must read back; empty: one derived from SECRET_KEY.
PARLEY_SECRET_BOX_KEYS = env.list("PARLEY_SECRET_BOX_KEYS", default=[])

# Widget rate limits, per minute: messages per visitor, messages per IP address, connections per IP.
PARLEY_RATE_VISITOR_MESSAGES = env.int("PARLEY_RATE_VISITOR_MESSAGES", default=30)
PARLEY_RATE_IP_MESSAGES = env.int("PARLEY_RATE_IP_MESSAGES", default=300)
PARLEY_RATE_IP_CONNECTS = env.int("PARLEY_RATE_IP_CONNECTS", default=120)
# Widget long-polls (HTTP fallback) waiting at once: per visitor (a few tabs), per IP address (an office).
PARLEY_POLLS_PER_VISITOR = env.int("PARLEY_POLLS_PER_VISITOR", default=3)
PARLEY_POLLS_PER_IP = env.int("PARLEY_POLLS_PER_IP", default=30)

# --- Outbound webhooks (webhooks app)
# Seconds to wait after each failed attempt; after the last, the delivery counts as failed.
PARLEY_WEBHOOK_RETRY_SCHEDULE = [
    float(s)
    for s in env.list("PARLEY_WEBHOOK_RETRY_SCHEDULE", default=[5, 300, 1800, 7200, 18000, 36000, 36000])
]
PARLEY_WEBHOOK_TIMEOUT = env.float("PARLEY_WEBHOOK_TIMEOUT", default=15.0)
# An endpoint whose every attempt has failed for this long is disabled and its owners emailed.
PARLEY_WEBHOOK_DISABLE_AFTER = env.float("PARLEY_WEBHOOK_DISABLE_AFTER", default=5 * 86400.0)
# After a rotation the old secret signs too, for this long.
PARLEY_WEBHOOK_ROTATION_OVERLAP = env.float("PARLEY_WEBHOOK_ROTATION_OVERLAP", default=86400.0)
# Deliveries in flight to one endpoint at once, over every worker; the rest wait parked, holding no
# worker (webhooks.delivery.deliver).
PARLEY_WEBHOOK_CONCURRENCY = env.int("PARLEY_WEBHOOK_CONCURRENCY", default=8)
# Loopback and private networks as targets: for development and tests only (production refuses).
PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS", default=True)
PARLEY_WEBHOOK_REQUIRE_HTTPS = env.bool("PARLEY_WEBHOOK_REQUIRE_HTTPS", default=False)

# --- REST API: requests per API key in any 60 seconds (a sliding window, api/rate_limit.py).
PARLEY_API_RATE_LIMIT = env.int("PARLEY_API_RATE_LIMIT", default=600)

# --- Workspace data exports (exports app): ZIPs of JSON files, built by a job, downloaded through a
# view that checks rights (never served as static files). Kept this many days, then deleted.
PARLEY_EXPORT_DIR = Path(env("PARLEY_EXPORT_DIR", default=str(BASE_DIR / ".data" / "exports")))
PARLEY_EXPORT_KEEP_DAYS = env.int("PARLEY_EXPORT_KEEP_DAYS", default=7)
# Rows read per query while an export is built (and its progress written once per batch).
PARLEY_EXPORT_BATCH = env.int("PARLEY_EXPORT_BATCH", default=1000)
# Exports one worker process builds at once, each on a thread of their own (exports.tasks).
PARLEY_EXPORT_THREADS = env.int("PARLEY_EXPORT_THREADS", default=2)

# How many ready, migrated spare schemas the worker keeps for instant sign-up.
PARLEY_SPARE_SCHEMAS = env.int("PARLEY_SPARE_SCHEMAS", default=3)
# Days a workspace deleted by staff stays restorable before its schema is dropped (tenants.app_settings).
PARLEY_DELETE_GRACE_DAYS = env.int("PARLEY_DELETE_GRACE_DAYS", default=30)

# --- Apps
SHARED_APPS = [
    "django_tenants",  # routes each request to its workspace's schema; schema-aware migrate
    "tenants",  # workspaces, domains and memberships: read before any schema is chosen
    "accounts",  # users are global, so one login works in every workspace they belong to
    "billing",  # plans and subscriptions belong to the workspace row, not inside it
    "staff",  # the console of the people who run Parley, and its audit log: across every workspace
    "staff.apps.ParleyAdminConfig",  # Django's admin, superusers only, public host (log entries)
    "exports",  # a workspace's data exports: requested by its owners or by staff, kept until they expire
    "health",  # samples of the job queue, workers and spare pool: the platform's, not a workspace's
    "django.contrib.contenttypes",  # needed by auth and admin
    "django.contrib.auth",  # password hashing, permissions, staff flag
    "django.contrib.sessions",  # one session table serves every host
    "django.contrib.messages",  # flash messages stored in the session
    "django.contrib.staticfiles",  # no tables; collects CSS and JS
    "allauth",  # sign-up, login, verification, password reset, rate limits
    "allauth.account",
    "allauth.mfa",  # two-factor authentication of users, who are global; required for staff
    "django_htmx",  # no tables; request.htmx
    "ninja",  # no tables; serves the API docs' static files
    "django.contrib.postgres",  # no tables; ArrayField, full-text search
    "channels",  # no tables; WebSocket consumers
    "procrastinate.contrib.django",  # one job queue for every workspace, so it lives once, in public
]
TENANT_APPS = [
    "inbox",  # contacts, conversations and messages of one workspace
    "widget",  # no tables; the visitor's side of the inbox (socket, HTTP fallback, script)
    "webhooks",  # a workspace's endpoints and their deliveries
    "api",  # a workspace's API keys
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Workspace"
TENANT_DOMAIN_MODEL = "tenants.Domain"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Send SET search_path once per schema change, not before every statement (half the round trips):
# every change goes through connection.set_schema (middleware, tenants.context), which re-arms it.
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls"

MIDDLEWARE = [
    "config.csp.ContentSecurityPolicyMiddleware",  # first: every response gets the policy, even an early 404
    # Before everything that can answer an error: under /api/v1/ each is the API's JSON error.
    "api.middleware.ApiErrorShapeMiddleware",
    "tenants.middleware.WorkspaceRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A staff user viewing a workspace as a member: read-only, time-limited, every page audited.
    "staff.middleware.ImpersonationMiddleware",
    "tenants.middleware.WorkspaceMembershipMiddleware",
    "billing.middleware.PlanLimitMiddleware",  # last: its process_exception sees the views' first
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.workspace",
                "billing.context_processors.billing",  # its nav entry and the owners' banner
                "staff.context_processors.impersonation",  # the banner while staff view as a member
                "config.csp.nonce",
            ],
        },
    }
]

ASGI_APPLICATION = "config.asgi.application"

# --- Data: PostgreSQL at DATABASE_URL, Redis at REDIS_URL. Importing this module starts no server:
# local.py and test.py build on embedded.py, which starts an embedded PostgreSQL and Redis under
# .data/ for whichever URL is unset; production.py requires both.
DATABASE_URL = env("DATABASE_URL", default="")
REDIS_URL = env("REDIS_URL", default="")
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="parley")


def database_settings(connection: dict) -> dict:
    """DATABASES["default"] for one PostgreSQL server (`connection`: NAME, USER, HOST, PORT...)."""
    return {
        **connection,
        "ENGINE": "django_tenants.postgresql_backend",
        # A pool per process (psycopg_pool through Django). Django keeps a connection per async context,
        # so without a pool every open WebSocket would either hold a connection of its own or open one
        # for each message. django-tenants forgets the search_path whenever a connection goes back to
        # the pool, so every borrower sets its own schema again.
        "CONN_MAX_AGE": 0,  # the pool does the keeping
        "OPTIONS": {
            **connection.get("OPTIONS", {}),
            "pool": {
                "min_size": env.int("DATABASE_POOL_MIN", default=2),
                "max_size": env.int("DATABASE_POOL_MAX", default=16),
                "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
            },
        },
    }


def database_from_url() -> dict:
    """The connection DATABASE_URL names."""
    connection = env.db_url("DATABASE_URL")
    # A unix-socket directory is written percent-encoded in the URL (postgres://u@%2Frun%2Fpg/db);
    # django-environ leaves it encoded, psycopg wants the path.
    connection["HOST"] = unquote(connection.get("HOST") or "")
    return connection


def cache_settings(redis_url: str, key_prefix: str) -> dict:
    """CACHES["default"] on one Redis server."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": key_prefix,
    }


def channel_layer_settings(redis_url: str, key_prefix: str) -> dict:
    """CHANNEL_LAYERS["default"] on one Redis server."""
    return {
        "BACKEND": "config.channel_layer.WaitingRedisChannelLayer",
        "CONFIG": {
            "max_connections": env.int("PARLEY_REDIS_MAX_CONNECTIONS", default=200),
            # redis-py 8 gives every socket a 5 s read timeout, the very time channels-redis blocks
            # waiting for a message (BZPOPMIN 5): an idle consumer would die after 5 quiet seconds.
            # A read timeout above that keeps a dead Redis detectable without killing idle sockets.
            "hosts": [{"address": redis_url, "socket_timeout": 15, "socket_connect_timeout": 5}],
            "prefix": f"{key_prefix}:asgi",
            # Past `capacity` waiting messages, channels-redis drops a channel's messages silently
            # (default 100). A workspace's agents group gets every message of every visitor, so one
            # busy second would overflow 100; 2000 absorbs bursts. An overflow loses no data (it is
            # in PostgreSQL and clients catch up by id), only the hint that something is new.
            "capacity": env.int("PARLEY_CHANNEL_CAPACITY", default=2000),
            # A push older than this is worth less than the catch-up a reconnecting client does
            # anyway, and a short expiry bounds what a dead consumer leaves behind in Redis.
            "expiry": env.int("PARLEY_CHANNEL_EXPIRY", default=15),
        },
    }


# Empty where the URL is unset: embedded.py fills them in, and production.py refuses to start.
DATABASES = {"default": database_settings(database_from_url())} if DATABASE_URL else {}
CACHES = {"default": cache_settings(REDIS_URL, REDIS_KEY_PREFIX)} if REDIS_URL else {}
CHANNEL_LAYERS = {"default": channel_layer_settings(REDIS_URL, REDIS_KEY_PREFIX)} if REDIS_URL else {}
# A second, small pool per process for the statements consumers run on the event loop itself (the
# visitor's message write, see tenants.context.workspace_statement): no thread hop per message.
PARLEY_ASYNC_DATABASE_POOL_MAX = env.int("DATABASE_ASYNC_POOL_MAX", default=8)
# All opened at start: a pool grown one connection at a time under a burst of messages left them
# queueing behind the first few for seconds (each new connection costs the busy server a handshake).
PARLEY_ASYNC_DATABASE_POOL_MIN = env.int("DATABASE_ASYNC_POOL_MIN", default=PARLEY_ASYNC_DATABASE_POOL_MAX)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts (django-allauth)
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "signup": "accounts.forms.WorkspaceSignupForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# An address counts as someone's only once they have proven it, so nobody can sign up as someone
# else and wait for them (account pre-hijacking; README "Security"). Sign-up asks for the emailed
# code before anything, the new workspace included, can be used. Codes, not links: a code works only
# in the browser session that asked for it, so a stranger holding a mailbox's code cannot finish a
# sign-up or a reset there, and a reset tells which address was proven (accounts.services).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# "Send a new code" on the code page (twice at most), for a code that went to spam or got lost.
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = True
# Sign-up and password reset answer alike whether or not an address is registered (the owner of a
# registered address is emailed instead).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
    # Ours, through allauth's limiter: the staff console's "resend verification" (staff.member_views),
    # once in 10 minutes per member address, 30 an hour per staff user.
    "staff_verification_resend": "1/10m/key,30/h/user",
}
# Two-factor authentication: an authenticator app (TOTP) and recovery codes, no security keys. Staff
# must have it (staff.permissions); anyone else may turn it on at /accounts/2fa/. The secrets are
# sealed like our other secrets (accounts.adapter.MFAAdapter).
MFA_ADAPTER = "accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Parley"

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Parley <hello@parley.localhost>")

# --- Billing (Stripe). An empty STRIPE_SECRET_KEY turns billing off: no limits, no pages, no calls.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Tests point the SDK at a local fake server; empty: Stripe's own API.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="").rstrip("/")
# Price ids of the paid plans (billing/plans.py), one per plan and interval.
STRIPE_PRICE_TEAM_MONTHLY = env("STRIPE_PRICE_TEAM_MONTHLY", default="")
STRIPE_PRICE_TEAM_YEARLY = env("STRIPE_PRICE_TEAM_YEARLY", default="")
STRIPE_PRICE_BUSINESS_MONTHLY = env("STRIPE_PRICE_BUSINESS_MONTHLY", default="")
STRIPE_PRICE_BUSINESS_YEARLY = env("STRIPE_PRICE_BUSINESS_YEARLY", default="")
# Days a past-due workspace keeps its paid limits before Free limits apply.
PARLEY_BILLING_GRACE_DAYS = env.int("PARLEY_BILLING_GRACE_DAYS", default=7)
# Where Upgrade and Manage billing send the browser (the pages' form-action allows them).
STRIPE_REDIRECT_ORIGINS = env.list(
    "STRIPE_REDIRECT_ORIGINS", default=["https://checkout.stripe.com", "https://billing.stripe.com"]
)

# --- Sessions stay on the host that set them: a workspace is entered by a one-time handoff link.
SESSION_COOKIE_NAME = "parley_session"
CSRF_COOKIE_NAME = "parley_csrf"
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True

# --- Static files
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Jobs (procrastinate on PostgreSQL)
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
PROCRASTINATE_WORKER_DEFAULTS = {
    # Jobs are mostly webhook deliveries, async and waiting on the network: many at once per worker.
    "concurrency": env.int("PARLEY_WORKER_CONCURRENCY", default=32),
    # Scheduled jobs (retries) are found by polling: start them within a second of their time.
    "fetch_job_polling_interval": env.float("PARLEY_WORKER_POLL_INTERVAL", default=1.0),
    "update_heartbeat_interval": env.float("PARLEY_WORKER_HEARTBEAT", default=10.0),
    # A finished job is worth nothing once done (each delivery's log is in the workspace's tables):
    # deleting it, not marking it, keeps procrastinate_jobs as small as the queue. Failed jobs stay.
    "delete_jobs": "successful",
}
# A worker silent for this long is taken for dead and its jobs run again (webhooks.tasks.retry_stalled_jobs).
PARLEY_WORKER_STALLED_AFTER = env.float("PARLEY_WORKER_STALLED_AFTER", default=30.0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Paths in logs lose their secret segments (invitation tokens, password-reset keys), the access
    # log's and Django's own "Not Found: /path" warnings alike; query strings are never logged.
    "filters": {
        "redact_secret_paths": {"()": "config.edge.RedactSecretPaths"},
        "drop_uvicorn_socket_lines": {"()": "config.edge.DropUvicornSocketLines"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "procrastinate": {"level": "WARNING"},
        # One line per request and WebSocket handshake, written by config/edge.py (uvicorn's own
        # access log, with query strings and all, is off): client, method, path, status, duration.
        "parley.access": {"level": "INFO" if env.bool("PARLEY_ACCESS_LOG", default=True) else "WARNING"},
        "django.request": {"filters": ["redact_secret_paths"]},
        "uvicorn.error": {"filters": ["drop_uvicorn_socket_lines"]},
    },
}
