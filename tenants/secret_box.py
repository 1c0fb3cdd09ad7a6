"""Encryption at rest for secrets we must read back (identity secrets, webhook signing secrets).

Keys come from PARLEY_SECRET_BOX_KEYS (comma-separated Fernet keys: the first encrypts, all
decrypt, so keys can be rotated); without it, one key is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@functools.cache
def _box(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"parley-secret-box").derive(
            secret_key.encode()
        )
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    return MultiFernet([Fernet(key) for key in keys])


def _current_box() -> MultiFernet:
    return _box(tuple(settings.PARLEY_SECRET_BOX_KEYS), settings.SECRET_KEY)


def seal(plaintext: str) -> str:
    return _current_box().encrypt(plaintext.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _current_box().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:  # a key was removed, or the value was tampered with
        raise ValueError("cannot decrypt this secret with the configured keys") from exc
