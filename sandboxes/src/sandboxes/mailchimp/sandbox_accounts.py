"""The base of ``MailchimpSandbox`` (sandbox.py): the state its parts share (declared here, set by
``MailchimpSandbox.__init__``), the URLs it answers on, and its accounts and their credentials:
accounts created with an API key, further API keys, OAuth clients and tokens, revoked and
reinstated credentials, and the account behind a reference (an account or its id)."""

from __future__ import annotations

from .models import OAuthClient, SandboxAccount
from .state import AccountData, SandboxClock, SandboxState

AccountRef = SandboxAccount | str


class SandboxAccounts:
    """What every part of :class:`~sandboxes.mailchimp.sandbox.MailchimpSandbox` shares: its
    state, its URLs, and its accounts with their credentials."""

    public_base_url: str
    clock: SandboxClock
    state: SandboxState

    # --- URLs --------------------------------------------------------------------------

    def api_endpoint(self, dc: str) -> str:
        """What ``/oauth2/metadata`` reports as ``api_endpoint`` (append ``/3.0``)."""
        return f"{self.public_base_url}/{dc}"

    def api_base_url(self, dc: str) -> str:
        return f"{self.api_endpoint(dc)}/3.0"

    # --- accounts and credentials --------------------------------------------------------

    def create_account(
        self,
        name: str,
        login_email: str,
        dc: str = "us21",
        role: str = "owner",
        *,
        first_name: str = "",
        last_name: str = "",
    ) -> SandboxAccount:
        """Create an account with one API key (``<32 hex>-<dc>``)."""
        state = self.state
        with state.lock:
            account = SandboxAccount(
                id=state.new_id(25),
                name=name,
                login_email=login_email,
                dc=dc,
                role=role,
                api_key=f"{state.new_id(32)}-{dc}",
                user_id=state.next_user_id(),
                login_id=str(state.next_user_id()),
                first_name=first_name,
                last_name=last_name,
                created_at=self.clock.iso(),
            )
            state.accounts[account.id] = AccountData(account=account)
            state.api_keys[account.api_key] = account.id
        return account

    def add_api_key(self, account: AccountRef) -> str:
        """Issue an additional API key for the account."""
        data = self._data(account)
        with self.state.lock:
            key = f"{self.state.new_id(32)}-{data.account.dc}"
            self.state.api_keys[key] = data.account.id
        return key

    def register_oauth_client(
        self, client_id: str, client_secret: str, redirect_uri: str
    ) -> OAuthClient:
        """Register an OAuth app with its Redirect URI, the one URI its authorizations may
        return to (`OAuthClient`). Raises ValueError for one that is no absolute http(s) URL."""
        client = OAuthClient(
            client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
        )
        with self.state.lock:
            self.state.oauth_clients[client_id] = client
        return client

    def issue_oauth_token(self, account: AccountRef) -> str:
        """An OAuth access token for the account (what the token endpoint hands out)."""
        data = self._data(account)
        with self.state.lock:
            token = self.state.new_id(32)
            self.state.tokens[token] = data.account.id
        return token

    def revoke(self, target: AccountRef) -> None:
        """Revoke an API key or OAuth token, or (given an account) all of its credentials."""
        state = self.state
        with state.lock:
            if isinstance(target, str) and (target in state.api_keys or target in state.tokens):
                state.revoked.add(target)
                return
            account_id = self._data(target).account.id
            for table in (state.api_keys, state.tokens):
                state.revoked.update(k for k, v in table.items() if v == account_id)

    def reinstate(self, key: str) -> None:
        """Credentials refused for a while are accepted again: a 401 that passed (an outage
        of Mailchimp's sign-in, an account suspended then restored), which the app took for
        a revocation until its next check. A key its owner revoked never comes back ("Once
        you've revoked an API key, it can't be reactivated", mailchimp.com/help/about-api-keys):
        the tests that model one never call this."""
        with self.state.lock:
            self.state.revoked.discard(key)

    def disable(self, account: AccountRef, disabled: bool = True) -> None:
        """Disable the account (closed, or suspended for abuse) or enable it again: while
        disabled, every call with any of its credentials is refused with 403 "User Disabled"
        (`errors.user_disabled`)."""
        account_id = self._data(account).account.id
        with self.state.lock:
            if disabled:
                self.state.disabled.add(account_id)
            else:
                self.state.disabled.discard(account_id)

    @property
    def accounts(self) -> list[SandboxAccount]:
        with self.state.lock:
            return [d.account for d in self.state.accounts.values()]

    def account(self, account_id: str) -> SandboxAccount:
        return self._data(account_id).account

    def _data(self, account: AccountRef) -> AccountData:
        account_id = account.id if isinstance(account, SandboxAccount) else account
        try:
            return self.state.accounts[account_id]
        except KeyError:
            raise KeyError(f"No sandbox account {account_id!r}") from None
