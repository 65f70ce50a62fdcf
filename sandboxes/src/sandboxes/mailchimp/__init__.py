"""An in-process fake of Mailchimp: Marketing API 3.0, OAuth2 login and sign-up.

Mount ``MailchimpSandbox().app`` under a host with :class:`sandboxes.transport.
HostRoutingTransport`; the API for datacenter ``dc`` lives at ``/{dc}/3.0``.
"""

from .faults import FaultProfile, Faults
from .models import SandboxAccount
from .sandbox import MailchimpSandbox
from .state import subscriber_hash

__all__ = ["FaultProfile", "Faults", "MailchimpSandbox", "SandboxAccount", "subscriber_hash"]
