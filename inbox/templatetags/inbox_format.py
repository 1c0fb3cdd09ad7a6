import re
from datetime import timedelta

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """4 s, 12 min, 3 h 5 min, 2 d 4 h: the two largest units people care about."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"


HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@register.simple_tag(takes_context=True)
def color_style(context, *, labels=(), websites=()) -> str:
    """A <style> (with the page's CSP nonce) that gives each label chip and website swatch its colour,
    by `data-color`: the policy refuses inline style attributes, and colours are the workspace's own."""
    colors = {label.color for label in labels} | {website.accent_color for website in websites}
    # Only well-formed colours reach the stylesheet: a value is not escaped inside <style>.
    rules = "".join(
        f'.label-chip[data-color="{c}"]{{--label:{c}}}.swatch[data-color="{c}"]{{--swatch:{c}}}'
        for c in sorted(colors)
        if HEX_COLOR.fullmatch(c)
    )
    return format_html('<style nonce="{}">{}</style>', context.get("csp_nonce", ""), mark_safe(rules))  # noqa: S308
