"""Every email Parley sends, each through the flow that sends it, asked for on a Host that is not ours
(as anyone can send): Parley's subject, a text and an HTML part, links on the hosts from settings
only, the HTML escaped, and nothing of allauth's stock text."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import allauth
import pytest
from allauth.account import app_settings as account_settings
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import User
from conftest import emailed_code, host_client, password_reset_by_code
from tenants.context import run_in_workspace
from tenants.models import Membership
from webhooks import delivery
from webhooks import services as webhook_services
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

# Ours, but on a port we do not serve: a link built from the request would carry ":9999".
PUBLIC_HOST, ALPHA_HOST = "localhost:9999", "alpha.localhost:9999"
PUBLIC, ALPHA = "http://localhost:8000/", "http://alpha.localhost:8000/"
HOSTILE_NAME = "<b>x</b> & Co"


def parts(message) -> tuple[str, str]:
    """The text body and the HTML alternative of `message`, asserting it has exactly those two."""
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return message.body, html


def assert_parley_mail(message, *, links_on: tuple[str, ...] = (PUBLIC,)) -> tuple[str, str]:
    text, html = parts(message)
    assert message.subject and "\n" not in message.subject and "[" not in message.subject
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    for part in (message.subject, text, html):
        assert "Hello from" not in part and "localhost:8310" not in part and "9999" not in part
        assert "{{" not in part and "{%" not in part  # no template left unrendered
    # Plain text is not HTML: nothing in it is escaped.
    assert not re.search(r"&(amp|lt|gt|quot|#x?[0-9a-f]+);", text + message.subject)
    # Why the person got it, in both parts; the wordmark and the layout in the HTML.
    assert "You got this email because" in text and "You got this email because" in html
    assert html.lstrip().startswith("<!DOCTYPE html>") and ">P</span>&nbsp;&nbsp;Parley</a>" in html
    links = re.findall(r"https?://[^\s<>\"']+", text) + re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(links_on) for link in links), links
    return text, html


def the_mail_to(address: str):
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message


def assert_code_shown(message, code: str) -> None:
    text, html = parts(message)
    assert re.search(rf"^{re.escape(code)}$", text, re.MULTILINE)  # on a line of its own
    assert re.search(rf'class="mail-code" style="[^"]*font-size:34px[^"]*">{re.escape(code)}</span>', html)


def test_the_sign_up_code():
    response = host_client(PUBLIC_HOST).post(
        "/accounts/signup/",
        {
            "workspace_name": "Acme",
            "workspace_slug": "acme",
            "email": "founder@acme.example",
            "password1": "correct-horse-battery-9",
        },
    )
    assert response.status_code == 302
    message = the_mail_to("founder@acme.example")
    assert message.subject == "Your Parley sign-up code"
    text, _ = assert_parley_mail(message)
    assert_code_shown(message, emailed_code("founder@acme.example"))
    minutes = account_settings.EMAIL_VERIFICATION_BY_CODE_TIMEOUT // 60
    assert f"It expires in {minutes} minutes" in text


def test_the_code_that_proves_an_address_at_login():
    user = User.objects.create_user("unproven@example.com", "own-password-123")
    user.last_login = timezone.now()  # has logged in before: not a sign-up (allauth's test)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    response = host_client(PUBLIC_HOST).post(
        "/accounts/login/", {"login": user.email, "password": "own-password-123"}
    )
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    message = the_mail_to(user.email)
    assert message.subject == "Your Parley code to confirm your email address"
    assert_parley_mail(message)
    assert_code_shown(message, emailed_code(user.email))


def test_the_password_reset_code(owner_a):
    assert (
        host_client(PUBLIC_HOST).post("/accounts/password/reset/", {"email": owner_a.email}).status_code
        == 302
    )
    message = the_mail_to(owner_a.email)
    assert message.subject == "Your Parley password reset code"
    text, _ = assert_parley_mail(message)
    assert_code_shown(message, emailed_code(owner_a.email))
    minutes = account_settings.PASSWORD_RESET_BY_CODE_TIMEOUT // 60
    assert f"It expires in {minutes} minute" in text


def test_a_reset_for_an_unknown_address_offers_sign_up_and_no_code():
    host_client(PUBLIC_HOST).post("/accounts/password/reset/", {"email": "nobody@example.com"})
    message = the_mail_to("nobody@example.com")
    assert message.subject == "No Parley account uses this address"
    text, html = assert_parley_mail(message)
    assert "code" not in text.lower()
    assert f'href="{PUBLIC}accounts/signup/"' in html


def test_a_sign_up_with_a_registered_address_tells_its_owner(owner_a):
    host_client(PUBLIC_HOST).post(
        "/accounts/signup/",
        {
            "workspace_name": "Dupe",
            "workspace_slug": "dupe",
            "email": owner_a.email,
            "password1": "correct-horse-battery-9",
        },
    )
    message = the_mail_to(owner_a.email)
    assert message.subject == "You already have a Parley account"
    _, html = assert_parley_mail(message)
    assert f'href="{PUBLIC}accounts/password/reset/"' in html


def test_the_invitation_escapes_the_workspace_and_inviter_names(workspace_a, owner_a):
    workspace_a.name = HOSTILE_NAME
    workspace_a.save()
    owner_a.display_name = "<i>Ana</i>"
    owner_a.save()
    response = host_client(ALPHA_HOST, owner_a).post(
        "/settings/team/", {"email": "new.agent@example.com", "role": "agent"}
    )
    assert response.status_code == 302
    message = the_mail_to("new.agent@example.com")
    assert message.subject == "<i>Ana</i> invited you to <b>x</b> & Co on Parley"
    text, html = assert_parley_mail(message, links_on=(PUBLIC, ALPHA))
    assert f"answer chats for {HOSTILE_NAME} on Parley, as agent." in text
    assert "<b>x</b>" not in html and "<i>Ana</i>" not in html
    assert "&lt;b&gt;x&lt;/b&gt; &amp; Co" in html and "&lt;i&gt;Ana&lt;/i&gt;" in html
    (link,) = re.findall(r"^(http://alpha\.localhost:8000/invite/\S+/)$", text, re.MULTILINE)
    assert f'href="{link}"' in html


def test_the_take_back_notice_escapes_the_workspace_names(workspace_b):
    workspace_b.name = HOSTILE_NAME
    workspace_b.save()
    victim = User.objects.create_user("victim@corp.example", "attackers-password-1")
    EmailAddress.objects.create(user=victim, email=victim.email, verified=False, primary=True)
    EmailAddress.objects.create(user=victim, email="attacker@evil.example", verified=True)
    Membership.objects.create(user=victim, workspace=workspace_b, role=Membership.Role.ADMIN)
    password_reset_by_code(host_client(PUBLIC_HOST), victim.email, "victims-own-password-7")

    (message,) = [m for m in mail.outbox if m.to == [victim.email] and "yours alone" in m.subject]
    assert message.subject == "Your Parley account is yours alone now"
    text, html = assert_parley_mail(message)
    assert f"stays a member of {HOSTILE_NAME} (admin)" in text and "attacker@evil.example" in text
    assert "&lt;b&gt;x&lt;/b&gt; &amp; Co (admin)" in html and "<b>x</b>" not in html
    assert f'href="{PUBLIC}accounts/password/reset/"' in html


@pytest.mark.parametrize("password", ["members-password-1", None])
def test_the_staff_consoles_reminder_to_prove_an_address_escapes_the_workspace_name(workspace_a, password):
    from staff import services as staff_services
    from staff.tests.conftest import make_staff

    workspace_a.name = HOSTILE_NAME
    workspace_a.save()
    member = User.objects.create_user("late@example.com", password)
    EmailAddress.objects.create(user=member, email=member.email, verified=False, primary=True)
    Membership.objects.create(user=member, workspace=workspace_a, role=Membership.Role.AGENT)
    staff_services.verification_resend(staff=make_staff(), workspace=workspace_a, member=member)

    message = the_mail_to("late@example.com")
    assert message.subject == "Finish setting up your Parley account"
    text, html = assert_parley_mail(message)
    assert f"a member of {HOSTILE_NAME}, is waiting for you to prove that late@example.com is yours" in text
    assert "&lt;b&gt;x&lt;/b&gt; &amp; Co" in html and "<b>x</b>" not in html
    assert f'href="{PUBLIC}accounts/password/reset/"' in html
    assert (f'href="{PUBLIC}accounts/login/"' in html) == (password is not None)


def test_the_disabled_endpoint_notice_links_the_endpoint_on_the_workspace_host(workspace_a, owner_a):
    workspace_a.name = HOSTILE_NAME
    workspace_a.save()
    schema = workspace_a.schema_name
    endpoint, _secret = run_in_workspace(
        schema,
        webhook_services.endpoint_create,
        url="http://127.0.0.1:9/hook?a=1&b=2",
        event_types=["contact.created"],
    )
    since = timezone.now() - timedelta(days=5)
    run_in_workspace(
        schema,
        lambda: Endpoint.objects.filter(pk=endpoint.pk).update(
            enabled=False, failing_since=since, disabled_reason="Every delivery failed since <then>."
        ),
    )
    run_in_workspace(schema, delivery.owners_tell_endpoint_disabled, endpoint.pk)

    message = the_mail_to(owner_a.email)
    assert message.subject == f"Parley disabled a webhook endpoint of {HOSTILE_NAME}"
    text, html = assert_parley_mail(message, links_on=(PUBLIC, ALPHA, "http://127.0.0.1:9/"))
    page = f"{ALPHA}settings/webhooks/{endpoint.pk}/"
    assert f"\n{page}\n" in text and f'href="{page}"' in html
    assert "http://127.0.0.1:9/hook?a=1&b=2" in text and "hook?a=1&amp;b=2" in html
    assert f"since {since:%Y-%m-%d %H:%M} UTC" in text
    assert "since &lt;then&gt;." in html


# allauth mails that Parley's settings never send, each with the setting that keeps it so. Turning
# one on fails this test until the mail has Parley's templates in templates/email/account/<name>/.
NOT_SENT = {
    "email_changed": lambda: not account_settings.EMAIL_NOTIFICATIONS,
    "email_deleted": lambda: not account_settings.EMAIL_NOTIFICATIONS,
    "password_changed": lambda: not account_settings.EMAIL_NOTIFICATIONS,
    "password_set": lambda: not account_settings.EMAIL_NOTIFICATIONS,
    "password_reset": lambda: not account_settings.EMAIL_NOTIFICATIONS,  # "your password was reset"
    "login_code": lambda: not account_settings.LOGIN_BY_CODE_ENABLED,
    "password_reset_key": lambda: account_settings.PASSWORD_RESET_BY_CODE_ENABLED,  # the link, not the code
    "email_confirm": lambda: True,  # a template no code of allauth 65 sends
}


def test_every_mail_allauth_can_send_here_has_parley_templates():
    stock = Path(allauth.__file__).parent / "templates" / "account" / "email"
    ours = Path(settings.BASE_DIR) / "templates" / "email" / "account"
    for subject in sorted(stock.glob("*_subject.txt")):
        name = subject.name.removesuffix("_subject.txt")
        if name in NOT_SENT:
            assert NOT_SENT[name](), f"allauth now sends {name}: give it templates in {ours / name}"
            continue
        for part in ("subject.txt", "body.txt", "body.html"):
            assert (ours / name / part).is_file(), f"{name} has no {part}"
