"""The Saleor and Mailchimp sandboxes over HTTP, in a process of their own, for the scale-out
test (tests/test_scale_out.py), which runs the app's web and worker processes beside it.

    python -m tests.scale_stack --port PORT --webs http://127.0.0.1:A,http://127.0.0.1:B

It is the benchmarks' stack (`benchmarks.stack.BenchStack`: the dev stack of
`sandboxes.devstack`, i.e. the app's web side with both sandboxes on one origin, the app
installed into the Saleor sandbox as a real Saleor installs it; `/_bench/stats`), plus:

* `POST /_scale/customers?first=I&count=N`: N customers registered in Saleor, each one's
  CUSTOMER_CREATED webhooks sent by the Saleor sandbox itself (`SaleorSandbox.emit`: signed,
  to every hook of the app that subscribes to the event) to one of the `--webs` in turn
  (customer i to web i mod 2), all customers at once as Saleor's webhook workers would;
  answers each customer's address and its deliveries' web and status.
* `POST /_scale/gate?open=0|1`: while closed, every request to the Saleor API waits at the
  door, so a job that reads Saleor is held there before it could write to Mailchimp.
  `GET /_scale/gate` answers how many requests wait.
* `GET /_scale/mailchimp`: every request the Mailchimp sandbox saw (method, path, status,
  body), in order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qs

import httpx
import uvicorn
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from addon.config import load_settings
from benchmarks.stack import BenchStack
from sandboxes.devstack import SALEOR_PATH, DevStack, create_dev_app

WEBHOOKS_PATH = "/api/webhooks/"
# The web process the deliveries of the customer being created go to (None: the hook's own
# target, e.g. the lifecycle webhooks while the stack installs the app).
_TARGET: ContextVar[str | None] = ContextVar("scale_stack_target", default=None)


class ToWebProcess(httpx.AsyncBaseTransport):
    """Saleor's outgoing requests, webhooks sent to the web process `_TARGET` names."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = _TARGET.get()
        if target is not None and request.url.path.startswith(WEBHOOKS_PATH):
            web = httpx.URL(target)
            request.url = request.url.copy_with(scheme=web.scheme, host=web.host, port=web.port)
            request.headers["host"] = request.url.netloc.decode("ascii")
        return await self.inner.handle_async_request(request)


class ScaleStack(BenchStack):
    def __init__(self, app: ASGIApp, stack: DevStack, webs: list[str]) -> None:
        super().__init__(app, stack, latency=0.0)
        self.webs = webs
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = 0
        stack.saleor.transport = ToWebProcess()
        stack.saleor.timeout = 120.0  # a delivery's: only a hung web process reaches it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        path: str = scope["path"]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        if path == "/_scale/customers":
            await _json(send, await self.customers(int(query["first"]), int(query["count"])))
        elif path == "/_scale/gate":
            if scope["method"] == "POST":
                (self.gate.set if query["open"] == "1" else self.gate.clear)()
            await _json(send, {"open": self.gate.is_set(), "waiting": self.waiting})
        elif path == "/_scale/mailchimp":
            logged = self.stack.mailchimp.requests
            await _json(send, {"requests": [r.model_dump(mode="json") for r in logged]})
        else:
            if path.startswith(SALEOR_PATH + "/graphql") and not self.gate.is_set():
                self.waiting += 1
                try:
                    await self.gate.wait()
                finally:
                    self.waiting -= 1
                # A job stopped at shutdown may have asked this: nobody waits for the answer.
                with contextlib.suppress(ClientDisconnect):
                    await super().__call__(scope, receive, send)
                return
            await super().__call__(scope, receive, send)

    async def customers(self, first: int, count: int) -> dict[str, Any]:
        saleor = self.stack.saleor

        async def register(index: int) -> dict[str, Any]:
            web = self.webs[index % len(self.webs)]
            _TARGET.set(web)  # this task's own context: the deliveries of this customer
            email = f"customer-{index}@scale.example"
            # What `SaleorSandbox.create_customer` does, keeping the deliveries it sends.
            customer = saleor.store.create_customer(email, "Scale", f"Customer {index}")
            sent = await saleor.emit("CUSTOMER_CREATED", customer)
            return {
                "email": email,
                "id": customer.global_id,
                "deliveries": [
                    {
                        "web": web,
                        "webhook": d.target_url.rsplit("/", 1)[-1],
                        "status": d.status_code,
                        "error": d.error,
                        "response": d.response_body.decode(errors="replace"),
                    }
                    for d in sent
                ],
            }

        created = await asyncio.gather(*(register(i) for i in range(first, first + count)))
        return {"customers": created}


async def _json(send: Send, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webs", required=True, help="Comma-separated origins of web processes.")
    args = parser.parse_args()
    app = create_dev_app(load_settings(), run_worker=False)
    stack = ScaleStack(app, app.state.devstack, args.webs.split(","))
    uvicorn.run(stack, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
