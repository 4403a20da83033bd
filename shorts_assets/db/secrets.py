"""Credentials at rest: sealed with the Fernet keys of SHORTS_SECRET_KEY before they reach the database.

SHORTS_SECRET_KEY holds one key or several, comma-separated. The first key seals; every key opens, so
a key is rotated by putting the new one first, re-sealing what is stored (``DatabaseStateStore.rotate``,
or ``python -m shorts_assets.db.rotate``) and then dropping the old one. A sealed value is stored as
``fernet:<token>``; anything else in a credential namespace was written in plaintext before sealing
existed, and is sealed by the next rotation.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shorts_assets.core.errors import ConfigError

VARIABLE = "SHORTS_SECRET_KEY"
SEALED_PREFIX = "fernet:"
MAKE_A_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


class SecretKeys:
    """The keys of SHORTS_SECRET_KEY, first one sealing; its repr never shows a key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError(f"{VARIABLE} is empty: give one Fernet key or several, comma-separated")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
                raise ConfigError(
                    f"{VARIABLE}: key {position} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded "
                    f"bytes); make one with {MAKE_A_KEY}"
                ) from None
        self._fernet = MultiFernet(fernets)
        self.count = len(fernets)

    @classmethod
    def parse(cls, raw: str) -> SecretKeys | None:
        """The keys of a SHORTS_SECRET_KEY value; None when it is unset or blank."""
        if not raw.strip():
            return None
        keys = [part.strip() for part in raw.split(",")]
        if any(not key for key in keys):
            raise ConfigError(f"{VARIABLE} has an empty entry: separate the keys with single commas")
        return cls(keys)

    def __repr__(self) -> str:
        return f"SecretKeys({self.count} key{'s' if self.count != 1 else ''})"

    def seal(self, plaintext: str) -> str:
        return SEALED_PREFIX + self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, stored: str, where: str) -> str:
        """The plaintext of a stored value; `where` names it in the error when no key opens it."""
        if not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(_token(stored)).decode("utf-8")
        except InvalidToken:
            raise ConfigError(
                f"{where} was sealed with a key that {VARIABLE} does not hold: set {VARIABLE} to the key it was "
                "written with (after a new key, when rotating)"
            ) from None

    def reseal(self, stored: str, where: str) -> str:
        """The value sealed with the first key (plaintext is sealed; a value no key opens is an error)."""
        if not is_sealed(stored):
            return self.seal(stored)
        try:
            return SEALED_PREFIX + self._fernet.rotate(_token(stored)).decode("ascii")
        except InvalidToken:
            self.open(stored, where)  # raises the error that names the variable
            raise


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def missing_key(where: str) -> ConfigError:
    return ConfigError(
        f"{where} is sealed but {VARIABLE} is not set: set it to the key the credentials were written with"
    )


def _token(stored: str) -> bytes:
    return stored[len(SEALED_PREFIX) :].encode("ascii")
