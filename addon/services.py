"""The long-lived objects of a process, shared by web and worker: settings, database, the Saleor
and Mailchimp clients, the job handler registry and the ports. Knows no capability: the
composition root, `addon.capabilities.create_services`, builds these and plugs every capability
in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import httpx

from addon.config import Settings
from addon.crypto import SecretBox
from addon.db.engine import Database
from addon.db.shared_slots import SharedSlots
from addon.db.types import use_secret_box
from addon.jobs.registry import HandlerRegistry
from addon.mailchimp import MailchimpHttp, MailchimpOAuth
from addon.mailchimp.limits import LocalSlots
from addon.saleor.client import SaleorClient

T = TypeVar("T")


def secret_box(settings: Settings) -> SecretBox:
    """The box of SECRET_KEY (it writes) and SECRET_KEY_PREVIOUS (they still read)."""
    return SecretBox(settings.resolve_secret_key(), settings.previous_secret_keys)


class Port(Generic[T]):
    """A question one capability asks of another it may not import (the E-commerce page asks
    for a channel's latest initial sync): declared by the capability that asks, with the type
    of its answer, and answered by the composition root (`Ports.plug`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Port({self.name!r})"


class Ports:
    """Each port's answer, as the composition root plugged it in."""

    def __init__(self) -> None:
        self._answers: dict[Port[Any], Any] = {}

    def plug(self, port: Port[T], answer: T) -> None:
        if port in self._answers:
            raise ValueError(f"{port!r} is answered already")
        self._answers[port] = answer

    def __getitem__(self, port: Port[T]) -> T:
        if port not in self._answers:
            raise LookupError(f"nothing answers {port!r}: addon.capabilities plugs it in")
        return cast(T, self._answers[port])


@dataclass
class Services:
    settings: Settings
    db: Database
    saleor: SaleorClient
    mailchimp: MailchimpHttp
    oauth: MailchimpOAuth
    handlers: HandlerRegistry[Services] = field(default_factory=HandlerRegistry)
    ports: Ports = field(default_factory=Ports)

    @classmethod
    def bare(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> Services:
        """The services with no capability plugged in (no job handlers, no ports): the app uses
        `addon.capabilities.create_services`. `transport` routes outbound HTTP."""
        use_secret_box(secret_box(settings))
        db = Database(
            settings.database_url,
            jobs_at_once=settings.worker_batch_size,
            sqlite_synchronous=settings.sqlite_synchronous,
        )
        cap = settings.mailchimp_max_concurrency
        # On PostgreSQL, several processes (web, `addon worker`s) share one account's cap.
        slots = LocalSlots(cap) if db.is_sqlite else SharedSlots(settings.database_url, cap)
        mailchimp = MailchimpHttp(
            api_url_template=settings.mailchimp_api_url_template,
            login_url=settings.mailchimp_login_url,
            max_concurrency_per_account=cap,
            slots=slots,
            max_attempts=settings.mailchimp_max_attempts,
            backoff_base=settings.mailchimp_backoff_base_seconds,
            backoff_max=settings.mailchimp_backoff_max_seconds,
            transport=transport,
        )
        return cls(
            settings=settings,
            db=db,
            saleor=SaleorClient(transport=transport),
            mailchimp=mailchimp,
            oauth=MailchimpOAuth(mailchimp, signup_url=settings.mailchimp_signup_url),
        )

    async def aclose(self) -> None:
        await self.saleor.aclose()
        await self.mailchimp.aclose()
        await self.db.dispose()
