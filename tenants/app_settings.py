"""Settings of the tenants app that a deployment may change, read in one place."""

from __future__ import annotations

from django.conf import settings

# Sub-domains a workspace may not take: our own hosts, and words that would mislead visitors.
DEFAULT_RESERVED_SLUGS = frozenset(
    (
        "about",
        "accounts",
        "admin",
        "api",
        "app",
        "apps",
        "assets",
        "auth",
        "billing",
        "blog",
        "cdn",
        "console",
        "dashboard",
        "dev",
        "docs",
        "download",
        "files",
        "ftp",
        "help",
        "imap",
        "localhost",
        "inbox",
        "login",
        "logout",
        "mail",
        "media",
        "my",
        "news",
        "ns1",
        "ns2",
        "oauth",
        "parley",
        "pop",
        "public",
        "root",
        "security",
        "settings",
        "signup",
        "smtp",
        "sso",
        "staff",
        "static",
        "staging",
        "status",
        "support",
        "system",
        "test",
        "upload",
        "webhooks",
        "widget",
        "www",
        "ws",
    )
)


def reserved_slugs() -> frozenset[str]:
    """Slugs no workspace may take: the defaults, the deployment's extra ones, and each label of the
    base domain (with chat.example.com: chat, example, com), whose hosts (chat.chat.example.com,
    com.chat.example.com) read like ours or like another site's."""
    base_domain_labels = frozenset(settings.PARLEY_BASE_DOMAIN.lower().split("."))
    extra = frozenset(getattr(settings, "PARLEY_EXTRA_RESERVED_SLUGS", ()))
    return DEFAULT_RESERVED_SLUGS | extra | base_domain_labels


def spare_schema_target() -> int:
    return settings.PARLEY_SPARE_SCHEMAS


def delete_grace_days() -> int:
    """Days between a workspace's deletion by staff and the dropping of its schema, during which staff
    can restore it (PARLEY_DELETE_GRACE_DAYS, 30 unless set)."""
    return getattr(settings, "PARLEY_DELETE_GRACE_DAYS", 30)


def workspace_url(slug: str, path: str = "/") -> str:
    """The absolute URL of a page on a workspace's host."""
    return f"{settings.PARLEY_URL_SCHEME}://{workspace_hostname(slug)}{settings.PARLEY_URL_PORT_SUFFIX}{path}"


def workspace_hostname(slug: str) -> str:
    return f"{slug}.{settings.PARLEY_BASE_DOMAIN}"


def public_url(path: str = "/") -> str:
    return f"{settings.PARLEY_PUBLIC_URL}{path}"
