"""The secrets map of an environment as stored: every value encrypted, bound to its tenant, environment and
name (the associated data), so a ciphertext copied elsewhere does not decrypt.

The environment's id is part of the binding, not its name: renaming an environment keeps its secrets
readable, and the id is known before the row is inserted (the service generates it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from orchestra.kit.secret_box import SecretBox, SecretDecryptionError


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted; the message names the environment and the secret, not a value."""


def secret_aad(tenant_id: uuid.UUID, environment_id: uuid.UUID, name: str) -> str:
    return f"orchestra/environment-secret/{tenant_id}/{environment_id}/{name}"


def seal(
    box: SecretBox, tenant_id: uuid.UUID, environment_id: uuid.UUID, values: Mapping[str, str]
) -> dict[str, str]:
    """Encrypt every value of ``values`` (plaintexts as written to the API) for this environment."""
    return {
        name: box.encrypt(str(value), secret_aad(tenant_id, environment_id, name))
        for name, value in values.items()
    }


def seal_plaintexts(
    box: SecretBox, tenant_id: uuid.UUID, environment_id: uuid.UUID, stored: Mapping[str, str]
) -> tuple[dict[str, str], int]:
    """``stored`` with the values not encrypted yet (written before encryption existed) encrypted, and how
    many those were. Already encrypted values are kept as they are."""
    result: dict[str, str] = {}
    count = 0
    for name, value in stored.items():
        if SecretBox.is_encrypted(value):
            result[name] = value
        else:
            result[name] = box.encrypt(str(value), secret_aad(tenant_id, environment_id, name))
            count += 1
    return result, count


def reveal(
    box: SecretBox,
    tenant_id: uuid.UUID,
    environment_id: uuid.UUID,
    environment_name: str,
    stored: Mapping[str, str],
) -> dict[str, str]:
    """The plaintexts, for the executor's run in memory only. A value not encrypted yet (the start-up pass
    of an API has not run since the upgrade) is used as it is."""
    plain: dict[str, str] = {}
    for name, value in stored.items():
        if not SecretBox.is_encrypted(value):
            plain[name] = str(value)
            continue
        try:
            plain[name] = box.decrypt(value, secret_aad(tenant_id, environment_id, name))
        except SecretDecryptionError as error:
            raise SecretUnreadable(
                f"secret '{name}' of environment '{environment_name}' ({environment_id}) cannot be "
                f"decrypted: {error} (check ORCHESTRA_SECRET_KEY or the secret key file; every process "
                "must use the same key)"
            ) from None
    return plain
