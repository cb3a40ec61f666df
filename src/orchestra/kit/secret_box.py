"""Encryption at rest of environment secrets: AES-256-GCM under one key from configuration.

A stored value is ``enc:v1:<base64 of nonce || ciphertext || tag>``. Every value gets its own random 96-bit
nonce (GCM's safe bound is 2**32 values per key with random nonces, far above any environment count). The
associated data names the place the value belongs to (see ``kit/environment_secrets.py``): it is not
stored, but a ciphertext decrypts only with it, so a value copied into another environment, tenant or
secret name is refused instead of being used there.

The key comes from ``ORCHESTRA_SECRET_KEY`` (base64 of 32 bytes) or from a key file
(``ORCHESTRA_SECRET_KEY_FILE``, default ``<data_dir>/secret.key``). A missing key file is created with mode
0600 on first start, which is what embedded mode relies on; an existing one that group or others may read is
refused rather than silently used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from orchestra.config import Settings
from orchestra.errors import StartupRefused
from orchestra.tenant_context import ContextKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = structlog.get_logger(__name__)

PREFIX = "enc:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
_TAG_BYTES = 16
# A key file another process is creating at this very moment is empty for a few microseconds.
_KEY_FILE_WAIT_S = 2.0


class SecretKeyError(StartupRefused):
    """The configured key is missing, malformed or stored unsafely; the message says how to fix it."""


class SecretDecryptionError(Exception):
    """A stored value does not decrypt: another key, another place (associated data), or altered bytes."""


class SecretBox:
    """Encrypts and decrypts single values; ``aad`` binds each value to its place."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise SecretKeyError(f"the secret key must be {KEY_BYTES} bytes, not {len(key)}")
        self._aead: AESGCM | None = None
        self._key = key

    def _cipher(self) -> AESGCM:
        """The cipher, made at the first value: the cryptography library is loaded only by a process that
        encrypts or decrypts something (an executor whose environments hold no secret never does)."""
        if self._aead is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(self._key)
        return self._aead

    def derive_key(self, label: str) -> bytes:
        """A 32-byte key for another purpose (``label`` names it), so that one configured secret serves
        several uses without any of them revealing the encryption key or another use's key."""
        return hmac.new(
            self._key, b"orchestra derived key: " + label.encode("utf-8"), hashlib.sha256
        ).digest()

    @staticmethod
    def is_encrypted(value: object) -> bool:
        return isinstance(value, str) and value.startswith(PREFIX)

    def encrypt(self, plaintext: str, aad: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, aad: str) -> str:
        """The plaintext; SecretDecryptionError (never quoting the value) when it cannot be recovered."""
        if not self.is_encrypted(token):
            raise SecretDecryptionError(f"the value is not encrypted (it does not start with {PREFIX!r})")
        try:
            raw = base64.b64decode(token[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise SecretDecryptionError("the stored value is not valid base64") from None
        if len(raw) < NONCE_BYTES + _TAG_BYTES:
            raise SecretDecryptionError("the stored value is too short to be a ciphertext")
        from cryptography.exceptions import InvalidTag

        try:
            plaintext = self._cipher().decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8"))
        except InvalidTag:
            raise SecretDecryptionError(
                "authentication failed: the secret key is not the one it was encrypted with, or the value "
                "was altered or copied from another place"
            ) from None
        return plaintext.decode("utf-8")


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def decode_key(text: str, source: str) -> bytes:
    """The key written as base64 (surrounding whitespace ignored); ``source`` names where it came from."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretKeyError(
            f"{source} is not valid base64; generate a key with `openssl rand -base64 32`"
        ) from None
    if len(key) != KEY_BYTES:
        raise SecretKeyError(
            f"{source} must be the base64 of {KEY_BYTES} bytes, but it decodes to {len(key)} bytes; "
            "generate a key with `openssl rand -base64 32`"
        )
    return key


def key_file_path(settings: Settings) -> Path:
    return settings.secret_key_file or settings.data_dir / "secret.key"


def _create_key_file(path: Path) -> bool:
    """Write a new random key to ``path`` (mode 0600 from the start, never wider); False if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False  # another process created it first: use theirs
    try:
        os.write(fd, base64.b64encode(new_key()) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretKeyError(
            f"the secret key file {path} may be read by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"restrict it with `chmod 600 {path}`"
        )
    deadline = time.monotonic() + _KEY_FILE_WAIT_S
    text = path.read_text(encoding="ascii", errors="replace")
    while not text.strip() and time.monotonic() < deadline:
        time.sleep(0.01)
        text = path.read_text(encoding="ascii", errors="replace")
    return decode_key(text, f"the secret key file {path}")


def load_secret_key(settings: Settings) -> bytes:
    """``ORCHESTRA_SECRET_KEY`` if set; else the key file, created on first start when it is missing."""
    if settings.secret_key is not None:
        return decode_key(settings.secret_key, "ORCHESTRA_SECRET_KEY")
    path = key_file_path(settings)
    if not path.exists() and _create_key_file(path):
        # Every process that shares the database must use this same key (a copy of the file, or the key in
        # ORCHESTRA_SECRET_KEY): one with another key cannot decrypt the environments' secrets.
        event = log.warning if settings.database_url else log.info
        event("secret_key.created", path=str(path))
    return _read_key_file(path)


def open_secret_box(settings: Settings) -> SecretBox:
    return SecretBox(load_secret_key(settings))


def open_context_key(settings: Settings) -> ContextKey:
    """The key that signs tenant contexts (tenant_context.py), derived from the same secret key: every
    process of a database already shares it."""
    return ContextKey.from_secret_key(load_secret_key(settings))


def configured_context_key(settings: Settings) -> ContextKey | None:
    """The context key of the secret key this process is given (``ORCHESTRA_SECRET_KEY`` or an existing key
    file); None rather than a new key file: what `orchestra migrate` registers for services elsewhere."""
    if settings.secret_key is None and not key_file_path(settings).exists():
        return None
    return open_context_key(settings)
