"""Credentials at rest (IMAP/SMTP passwords): sealed with AES-256-GCM under a key derived
from the server's secret key, so a copy of the database alone does not give away anyone's
mail password. Each sealed value carries its own random nonce and a version byte; the
account id is bound in as associated data, so a sealed password cannot be moved to another
account's row."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value that this key cannot open (another secret key, or tampered with)."""


def _key(secret_key: str) -> bytes:
    if not secret_key:
        raise SealError("no secret key to seal credentials with")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tandem credentials")
    return hkdf.derive(secret_key.encode())


def seal(secret_key: str, plaintext: str, bound_to: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, plaintext.encode(), bound_to.encode())
    return VERSION + nonce + sealed


def unseal(secret_key: str, sealed: bytes, bound_to: str) -> str:
    if not sealed.startswith(VERSION) or len(sealed) < 1 + NONCE_BYTES + 16:
        raise SealError("not a sealed credential")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(_key(secret_key)).decrypt(nonce, body, bound_to.encode()).decode()
    except Exception as exc:  # InvalidTag: wrong key, wrong account, or altered bytes
        raise SealError("this server's secret key cannot open the stored credential") from exc
