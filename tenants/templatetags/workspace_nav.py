"""The workspace's main navigation: a link that says when it is the page you are on."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html

register = template.Library()

# Pages whose address starts another page's: they are current only on themselves.
_EXACT = {"/", "/settings/"}


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str) -> str:
    """<a> to `url_name`, with aria-current="page" on that page or one below it."""
    href = reverse(url_name)
    path = context["request"].path
    current = path == href or (href not in _EXACT and path.startswith(href))
    # escape(), not format_html's own: a template's string literal arrives marked safe ("Labels & replies").
    label = escape(label)
    if current:
        return format_html('<a href="{}" aria-current="page">{}</a>', href, label)
    return format_html('<a href="{}">{}</a>', href, label)
