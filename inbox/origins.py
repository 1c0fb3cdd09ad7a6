"""Origins as the browser sends them: scheme://host[:port], lowercase, default ports left out."""

from __future__ import annotations

from urllib.parse import urlsplit

from inbox.exceptions import WebsiteOriginInvalid

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_normalize(value: str) -> str:
    """The canonical form of one origin, or WebsiteOriginInvalid saying what is wrong with it."""
    raw = value.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise WebsiteOriginInvalid(f"“{raw}” has an invalid port.") from exc
    if parts.scheme not in _DEFAULT_PORTS:
        raise WebsiteOriginInvalid(f"“{raw}” must start with https:// or http://.")
    if not parts.hostname or parts.username or parts.password:
        raise WebsiteOriginInvalid(f"“{raw}” needs a host name, and nothing before it.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise WebsiteOriginInvalid(f"“{raw}” must be an origin only: no path, query or fragment.")
    if "*" in parts.hostname:
        raise WebsiteOriginInvalid(f"“{raw}”: wildcards are not allowed; list each origin.")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    suffix = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def origins_parse(text: str) -> list[str]:
    """One origin per line (or comma-separated), normalised and de-duplicated; all errors at once."""
    entries = [entry for line in text.replace(",", "\n").splitlines() if (entry := line.strip())]
    origins, errors = [], []
    for entry in entries:
        try:
            origin = origin_normalize(entry)
        except WebsiteOriginInvalid as exc:
            errors.append(str(exc))
        else:
            if origin not in origins:
                origins.append(origin)
    if errors:
        raise WebsiteOriginInvalid(" ".join(errors))
    return origins
