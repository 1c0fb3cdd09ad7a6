"""The one door every email of Parley leaves through, so its look, its links and its transport are
decided here and nowhere else.

A mail is a folder, templates/email/<name>/, holding subject.txt, body.txt and body.html (which
extends email/base.html, the branded layout). It goes out as one multipart message (the text, and the
HTML as its alternative) through Django's configured backend, which EMAIL_URL sets: tests point that
one setting at a local SMTP server, a file folder or Django's outbox.

Links in a mail are built by the caller from settings (tenants.app_settings), never from a request,
whose Host header anyone can set; `public_url` is handed to every template for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template


def render(name: str, *, to: str | list[str], context: Mapping[str, Any]) -> EmailMultiAlternatives:
    """The message `name` for `to`, rendered from templates/email/<name>/ and not yet sent."""
    recipients = [to] if isinstance(to, str) else list(to)
    full = {"public_url": settings.PARLEY_PUBLIC_URL, "recipient": ", ".join(recipients), **context}
    # The subject and text body are not HTML: escaping them would turn "R&D" into "R&amp;D".
    subject = " ".join(_render_text(f"email/{name}/subject.txt", full).split())
    text = _render_text(f"email/{name}/body.txt", full).strip() + "\n"
    html = get_template(f"email/{name}/body.html").render({**full, "subject": subject})
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        # Tells mail servers and auto-responders that no person typed this (RFC 3834): no vacation
        # replies to it.
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def send(name: str, *, to: str | list[str], context: Mapping[str, Any]) -> None:
    """Render the message `name` (see render) and send it through the configured email backend."""
    render(name, to=to, context=context).send()


def _render_text(template_name: str, context: Mapping[str, Any]) -> str:
    # The engine's own Template, so that autoescaping can be switched off for plain text.
    template = get_template(template_name).template
    return template.render(Context(dict(context), autoescape=False))
