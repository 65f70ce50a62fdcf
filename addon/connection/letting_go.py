"""What the capabilities do with an account's credentials before the connection lets go of them.

A reset removes the credentials (`ConnectionService.reset`), connecting another account replaces
them (`Linking.save`), and an uninstall erases them (`addon.ecommerce.farewell`): whatever the
app set in the first account and must undo needs them, and no job run afterwards has them. So,
before any of these, `LET_GO` is asked (a port answered by the composition root: the initial
sync releases the stores' `is_syncing`, their automations held) with the credentials still
known, and the admin is told what could not be undone, with the reset's or the switch's answer
(an uninstall's is logged). The answer is bounded in time (a few seconds:
a reset because Mailchimp refuses the credentials, or does not answer, must not wait on it), and
the work is done outside any request transaction (no database lock held while Mailchimp
answers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel

from addon.mailchimp import MailchimpCredentials
from addon.services import Port

if TYPE_CHECKING:
    from addon.services import Services


class Leaving(StrEnum):
    """How the connection lets go of the account (what the admin can do afterwards differs)."""

    RESET_KEEPING_DATA = "reset_keeping_data"  # reconnecting the same account resumes
    RESET_FORGETTING_DATA = "reset_forgetting_data"
    SWITCHED = "switched"  # another account connected in its place
    UNINSTALLED = "uninstalled"  # the app uninstalled: its data erased next


class LetGo(BaseModel):
    """What letting go did, one sentence per thing: `undone` in the account, and `left` there
    that the admin must know of (named, with what they can do)."""

    undone: list[str] = []
    left: list[str] = []
    # Something left because Mailchimp did not answer: trying again later may undo it.
    may_pass: bool = False

    def described(self) -> str:
        return " ".join([*self.undone, *self.left])


# (services, installation id, the account's credentials or None when the app no longer holds
# them, how it lets go) → what was left. Never raises for Mailchimp's sake.
LetGoHook = Callable[["Services", int, MailchimpCredentials | None, Leaving], Awaitable[LetGo]]
LET_GO = Port[LetGoHook]("connection.let_go")


async def let_go(
    services: Services,
    installation_id: int,
    credentials: MailchimpCredentials | None,
    leaving: Leaving,
) -> LetGo:
    return await services.ports[LET_GO](services, installation_id, credentials, leaving)
