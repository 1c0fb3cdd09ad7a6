"""The gateway over a real transport: Django's SMTP backend talks to an SMTP server (aiosmtpd) on a
local port, and what arrives is parsed as a mail client would."""

from __future__ import annotations

import email
import email.policy
import re
import socket

import pytest
from aiosmtpd.controller import Controller

from conftest import host_client

pytestmark = pytest.mark.django_db


class Mailbox:
    """aiosmtpd's handler: keeps every message the server accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free local port, and Django's SMTP backend pointed at it (the one
    setting EMAIL_URL fills in production)."""
    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield mailbox
    controller.stop()


def test_an_invitation_arrives_over_smtp_as_text_with_an_html_alternative(smtp_server, workspace_a, owner_a):
    workspace_a.name = "Crème & Co"  # not ASCII, and an ampersand: both must survive the trip
    workspace_a.save()
    response = host_client("alpha.localhost", owner_a).post(
        "/settings/team/", {"email": "new.agent@example.com", "role": "agent"}
    )
    assert response.status_code == 302

    ((mail_from, rcpt_tos, raw),) = smtp_server.received
    assert rcpt_tos == ["new.agent@example.com"] and mail_from == "hello@parley.localhost"
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Ana Owner invited you to Crème & Co on Parley"
    assert message["From"] == "Parley <hello@parley.localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert "answer chats for Crème & Co on Parley" in text
    assert "Join Crème &amp; Co" in html
    # The link on a line of its own (SMTP ends lines with CRLF), the same in both parts.
    (link,) = re.findall(r"^(http://alpha\.localhost:8000/invite/\S+/)\r?$", text, re.MULTILINE)
    assert f'href="{link}"' in html
