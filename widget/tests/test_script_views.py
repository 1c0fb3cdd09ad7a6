"""/widget.js: the built bundle, compressed, cached and revalidated by its content hash."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from widget.script_views import DIST

pytestmark = pytest.mark.django_db


def _manifest() -> dict:
    return json.loads((DIST / "manifest.json").read_text())


def test_widget_js_is_served_gzipped_with_a_short_cache_and_a_content_hash_etag(client):
    response = client.get("/widget.js", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "public, max-age=300, stale-while-revalidate=86400"
    assert response["ETag"] == f'"{_manifest()["hash"]}"'
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    code = gzip.decompress(response.content)
    assert code == (DIST / "widget.js").read_bytes()
    assert _manifest()["hash"].encode() in code  # Parley.version names the build


def test_revalidation_is_a_304(client):
    etag = client.get("/widget.js")["ETag"]
    again = client.get("/widget.js", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert client.get("/widget.js", HTTP_IF_NONE_MATCH='"stale"').status_code == 200


@pytest.mark.parametrize("accept_encoding", ["gzip", ""])
def test_head_answers_like_get_without_the_body(client, accept_encoding):
    """CDNs and uptime checks send HEAD: the same headers as GET (its length too), and no body."""
    get = client.get("/widget.js", HTTP_ACCEPT_ENCODING=accept_encoding)
    head = client.head("/widget.js", HTTP_ACCEPT_ENCODING=accept_encoding)
    assert head.status_code == 200 and head.content == b""
    for header in ("Content-Type", "ETag", "Cache-Control", "Vary", "Cross-Origin-Resource-Policy"):
        assert head[header] == get[header]
    assert head["Content-Length"] == get["Content-Length"] == str(len(get.content))
    assert head.get("Content-Encoding") == get.get("Content-Encoding")


def test_head_revalidation_and_the_pinned_version(client):
    version = _manifest()["hash"]
    assert client.head("/widget.js", HTTP_IF_NONE_MATCH=f'"{version}"').status_code == 304
    pinned = client.head(f"/widget.{version}.js")
    assert pinned.status_code == 200 and pinned["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.head(f"/widget.{version}.js", HTTP_IF_NONE_MATCH=f'"{version}"').status_code == 304
    assert client.head("/widget.000000000000.js").status_code == 404


def test_plain_clients_get_it_uncompressed(client):
    response = client.get("/widget.js")
    assert "Content-Encoding" not in response
    assert response.content == (DIST / "widget.js").read_bytes()


def test_the_pinned_version_is_immutable_and_other_versions_are_404(client):
    version = _manifest()["hash"]
    pinned = client.get(f"/widget.{version}.js")
    assert pinned.status_code == 200
    assert pinned["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/widget.000000000000.js").status_code == 404


def test_the_widget_is_not_served_on_workspace_hosts(client_a):
    assert client_a.get("/widget.js").status_code == 404


def test_the_bundle_has_no_global_but_its_api():
    code = (DIST / "widget.js").read_text()
    assert code.startswith(("(()=>{", '"use strict";(()=>{'))  # one IIFE: nothing leaks but what it assigns
    compact = code.replace(" ", "")
    # Two: the API (window.Parley, or data-global's name) and a Symbol.for mark that stops a second copy.
    assert len(re.findall(r"window(?:\.\w+|\[\w+\])=(?!=)", compact)) == 2
    assert '||"Parley"' in compact and 'Symbol.for("parley.widget")' in compact
