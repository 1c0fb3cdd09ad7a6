"""How long an emailed code works, for the pages that ask for it (the mail says the same)."""

from django import template

from accounts.adapter import code_lifetime as lifetime_in_words

register = template.Library()


@register.simple_tag
def code_lifetime(kind: str) -> str:
    return lifetime_in_words(kind)
