"""Contacts (inbox/services/contacts.py): the visitor behind a widget token."""

from __future__ import annotations

from inbox import services


def test_a_known_token_resumes_the_contact_and_an_unknown_one_gets_a_new_visitor(visitor):
    website = visitor.website
    contact, token = services.contact_for_visitor(website=website, token="not-a-real-token")
    assert contact.pk != visitor.pk and token != "not-a-real-token"
    again, same_token = services.contact_for_visitor(
        website=website, token=token, page_url="https://s.example/b"
    )
    assert again.pk == contact.pk and same_token == token and again.current_url == "https://s.example/b"
