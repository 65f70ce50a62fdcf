"""Whether this process's SECRET_KEY reads the secrets stored in the database.

Secrets (app tokens, Mailchimp credentials) are encrypted with a key derived from SECRET_KEY
(`addon/crypto.py`). Started with another key (changed, lost, or another deployment's), the app
looked healthy while every signed webhook got a 500 and every queued job failed its attempts
into quarantine, where restoring the key would not bring it back. So a process refuses to start
(`capabilities.start_up`) and `/readyz` answers 503 while the key does not fit. One stored
token is enough to tell: every secret is encrypted with the same key, or, while a changed key
is rotated (`addon rotate-secrets`), with SECRET_KEY or one of SECRET_KEY_PREVIOUS, which the
process's `SecretBox` reads too: a token under a previous key fits.
"""

from __future__ import annotations

from sqlalchemy import select

from addon.crypto import SecretDecryptionError
from addon.db.engine import Database
from addon.installations.models import Installation

WRONG_KEY = (
    "SECRET_KEY cannot decrypt the secrets stored in the database (it was changed, or the "
    "database is another deployment's): start again with the SECRET_KEY they were stored with "
    "(or, to change the key, with that one in SECRET_KEY_PREVIOUS)."
)


class WrongSecretKey(RuntimeError):
    """The stored secrets were encrypted with another SECRET_KEY."""


async def secret_key_fits(db: Database) -> bool:
    """Whether a stored app token decrypts under SECRET_KEY or a previous key (true with none
    stored)."""
    async with db.session() as session:
        try:
            await session.scalar(
                select(Installation.app_token).order_by(Installation.id.desc()).limit(1)
            )
        except SecretDecryptionError:
            return False
    return True


async def check_secret_key(db: Database) -> None:
    if not await secret_key_fits(db):
        raise WrongSecretKey(WRONG_KEY)
