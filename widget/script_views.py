"""/widget.js: the built widget (widget_js/dist), cached by browsers and revalidated by content hash.

`/widget.js` is what the snippet names: it may be cached for 5 minutes and then used while it is
revalidated in the background for a day (ETag = content hash, so revalidation is a 304). The same
file at `/widget.<hash>.js` never changes, for pages that pin a version. HEAD (CDNs, uptime checks)
is answered like GET without the body: same headers, same 304 on a matching If-None-Match.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe

DIST = Path(__file__).resolve().parent.parent / "widget_js" / "dist"
SHORT_CACHE = "public, max-age=300, stale-while-revalidate=86400"
FOREVER = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Bundle:
    hash: str
    code: bytes
    gzipped: bytes
    mtime: float


_bundle: Bundle | None = None


def current_bundle() -> Bundle:
    """The built widget, read again whenever the build changes it."""
    global _bundle
    path = DIST / "widget.js"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise Http404("The widget is not built: run `make widget`.") from None
    if _bundle is None or _bundle.mtime != mtime:
        code = path.read_bytes()
        manifest = json.loads((DIST / "manifest.json").read_text())
        digest = manifest.get("hash") or hashlib.sha256(code).hexdigest()[:12]
        _bundle = Bundle(hash=digest, code=code, gzipped=gzip.compress(code, 9), mtime=mtime)
    return _bundle


def _serve(request: HttpRequest, bundle: Bundle, cache_control: str) -> HttpResponse:
    etag = f'"{bundle.hash}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
        code = bundle.gzipped if gzip_ok else bundle.code
        response = HttpResponse(
            b"" if request.method == "HEAD" else code, content_type="text/javascript; charset=utf-8"
        )
        # The length of what GET sends, for HEAD too (set here: CommonMiddleware would count the empty body).
        response["Content-Length"] = str(len(code))
        if gzip_ok:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["Vary"] = "Accept-Encoding"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def widget_js(request: HttpRequest) -> HttpResponse:
    return _serve(request, current_bundle(), SHORT_CACHE)


@require_safe
def widget_js_pinned(request: HttpRequest, version: str) -> HttpResponse:
    bundle = current_bundle()
    if version != bundle.hash:
        raise Http404("No widget of that version.")
    return _serve(request, bundle, FOREVER)
