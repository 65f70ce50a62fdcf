"""Both sandboxes without the app, in a process of their own (the ingest benchmark's).

`python -m benchmarks.sandboxes_stack --port P [--key-file PEM] [--latency S]` serves, on
`http://127.0.0.1:P`, the Saleor sandbox at the dev stack's path (its JWKS at the origin's root,
where Saleor serves it) and the Mailchimp sandbox with its demo account
(`benchmarks.mailchimp_stack.MailchimpBench`, its `/_bench/stats` too). The app runs elsewhere,
as `addon serve` runs it: real Saleor and Mailchimp are other machines, so their work must not
take the app's event loop or CPU. `GET /_bench/install?manifest=URL` installs the app at `URL`
into the Saleor sandbox, as a staff user installing it from the dashboard would (the app of a
previous run removed first), and answers its app id. `--key-file`: the Saleor sandbox signs with
this key (the benchmark's client signs deliveries with it too).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from benchmarks.mailchimp_stack import MailchimpBench
from benchmarks.stack import arguments, run, send_json
from sandboxes.devstack import SALEOR_PATH
from sandboxes.saleor import SaleorSandbox, SigningKey


class SandboxesBench(MailchimpBench):
    """The Mailchimp sandbox of `MailchimpBench`, and the Saleor sandbox beside it."""

    def __init__(self, origin: str, latency: float, key: SigningKey | None) -> None:
        super().__init__(origin, latency)
        self.saleor = SaleorSandbox(f"{origin}{SALEOR_PATH}/graphql/", signing_key=key)
        self.saleor.store.default_channel()  # as the dev stack: a sales channel to track

        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(self.saleor.jwks())

        # Saleor serves its keys at its origin's root (`SaleorSandbox.jwks_url`).
        self.app.router.routes[:0] = [
            Mount(SALEOR_PATH, self.saleor.app),
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/install":
            query = parse_qs(scope.get("query_string", b"").decode())
            # Each measured run is an app of its own, the one before it stopped: Saleor refuses
            # a second app of one identifier (staff would delete the first), so it goes.
            self.saleor.store.apps.clear()
            installed = await self.saleor.install_app(query["manifest"][0])
            await send_json(send, {"app_id": installed.global_id})
            return
        await super().__call__(scope, receive, send)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--key-file", default=None)
    args = parser.parse_args()
    key = SigningKey.from_pem(Path(args.key_file).read_bytes()) if args.key_file else None
    run(SandboxesBench(f"http://127.0.0.1:{args.port}", args.latency, key), args.port)


if __name__ == "__main__":
    main()
