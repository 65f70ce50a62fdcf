"""The route table finds, for any path and method, what trying every route in turn finds."""

from __future__ import annotations

import itertools
import re

from sandboxes.mailchimp import MailchimpSandbox
from sandboxes.mailchimp.errors import MailchimpError
from sandboxes.mailchimp.routing import Handler, Router, _depth


def linear(router: Router, method: str, path: str) -> tuple[Handler, dict[str, str]] | int:
    """The reference: every route of the table in the order added, the first match wins."""
    path_matched = False
    for route in router._routes:
        if _depth(route.template) != _depth(path):
            continue
        match = route.pattern.match(path)
        if match is None:
            continue
        path_matched = True
        if route.method == method.upper():
            return route.handler, match.groupdict()
    return 405 if path_matched else 404


def resolved(router: Router, method: str, path: str) -> tuple[Handler, dict[str, str]] | int:
    try:
        return router.resolve(method, path)
    except MailchimpError as exc:
        return exc.status


def paths(templates: list[str]) -> set[str]:
    segments = {s for t in templates for s in t.split("/") if s and "{" not in s}
    fillers = ["x1", "", "members", "ecommerce", *sorted(segments)[:8]]
    out: set[str] = {"", "/", "//", "ping", "/unknown", "/unknown/x", "/lists//members"}
    for template in templates:
        names = re.findall(r"\{(\w+)\}", template)
        for values in itertools.product(fillers[:4], repeat=min(len(names), 2)):
            path = template
            for name, value in zip(names, itertools.cycle(values or ("x1",)), strict=False):
                path = path.replace("{" + name + "}", value)
            out |= {path, path + "/", path.lstrip("/"), "/other" + path, path + "/extra"}
    return out


def test_resolve_finds_what_a_linear_scan_finds() -> None:
    router = MailchimpSandbox().router
    templates = sorted({route.template for route in router._routes})
    checked = 0
    for path in sorted(paths(templates)):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "get", "FOO"):
            assert resolved(router, method, path) == linear(router, method, path), (method, path)
            checked += 1
    assert checked > 5000


def test_a_template_with_a_parameter_first_keeps_its_place() -> None:
    def first(request: object) -> None:
        return None

    def second(request: object) -> None:
        return None

    def third(request: object) -> None:
        return None

    router = Router()
    router.add("GET", "/{anything}/b", first)
    router.add("GET", "/a/b", second)
    router.add("POST", "/a/b", third)
    assert router.resolve("GET", "/a/b") == (first, {"anything": "a"})
    assert router.resolve("POST", "/a/b") == (third, {})
    assert router.resolve("GET", "/z/b") == (first, {"anything": "z"})
    late = Router()
    late.add("GET", "/a/b", second)
    assert resolved(late, "GET", "/q/b") == 404
    late.add("GET", "/{anything}/b", first)  # routes added after a lookup count too
    assert late.resolve("GET", "/a/b") == (second, {})
    assert late.resolve("GET", "/q/b") == (first, {"anything": "q"})
    assert resolved(late, "POST", "/q/b") == 405
    assert resolved(late, "GET", "/q/c") == 404
