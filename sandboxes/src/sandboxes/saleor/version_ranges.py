"""`requiredSaleorVersion`: whether a Saleor version satisfies an app's npm-style range, as
Saleor decides at installation (`manifest_rules`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# `RequiredSaleorVersionSpec` (manifest_validations.py@3.20.119): semantic_version 2.10's
# `NpmSpec` whose ranges compare pre-releases "naturally" (3.24.0-a.0 satisfies ">=3.20" but not
# "<3.24"). Rewritten here after semantic_version/base.py@2.10.0 (`NpmSpec.Parser`, `Range`).


@dataclass(frozen=True)
class _Semver:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def key(self) -> tuple[int, int, int, tuple[tuple[int, int, str], ...]]:
        """Semver precedence: numeric identifiers below alphanumeric ones, a release above its
        pre-releases; the build is left out."""
        if not self.prerelease:
            return self.major, self.minor, self.patch, ((2, 0, ""),)
        parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return self.major, self.minor, self.patch, parts

    def truncate(self) -> _Semver:
        return _Semver(self.major, self.minor, self.patch)

    def next_major(self) -> _Semver:
        if self.prerelease and self.minor == self.patch == 0:
            return _Semver(self.major, 0, 0)
        return _Semver(self.major + 1, 0, 0)

    def next_minor(self) -> _Semver:
        if self.prerelease and self.patch == 0:
            return _Semver(self.major, self.minor, 0)
        return _Semver(self.major, self.minor + 1, 0)

    def next_patch(self) -> _Semver:
        if self.prerelease:
            return _Semver(self.major, self.minor, self.patch)
        return _Semver(self.major, self.minor, self.patch + 1)


def _identifiers(text: str | None, *, leading_zeros: bool = False) -> tuple[str, ...]:
    """Dot-separated identifiers: none empty, no leading zero in a number of a pre-release."""
    parts = tuple(text.split(".")) if text else ()
    for part in parts:
        if not part or (not leading_zeros and part.isdigit() and part != "0" and part[0] == "0"):
            raise ValueError(f"invalid identifier {part!r} in {text!r}")
    return parts


_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9a-zA-Z.-]+))?(?:\+([0-9a-zA-Z.-]+))?$")


def _saleor_semver(version: str) -> _Semver:
    match = _SEMVER.match(version)
    if match is None:
        raise ValueError(f"not a semantic version: {version!r}")
    major, minor, patch, pre, build = match.groups()
    return _Semver(
        int(major),
        int(minor),
        int(patch),
        _identifiers(pre),
        _identifiers(build, leading_zeros=True),
    )


@dataclass(frozen=True)
class _Range:
    op: str  # ==, >, >=, <, <=
    target: _Semver
    natural: bool = True  # else "always", the policy of the clauses bounding a pre-release

    def match(self, version: _Semver) -> bool:
        if self.target.build:  # only "=1.2.3+b" keeps a build: compared strictly
            return version == self.target
        version = replace(version, build=())
        if self.op == "==":
            return version == self.target
        if (
            self.op == "<"
            and self.natural
            and version.prerelease
            and not self.target.prerelease
            and version.truncate() == self.target.truncate()
        ):
            return False  # natural: "<3.24.0" does not take 3.24.0-a.0
        ours, theirs = version.key(), self.target.key()
        return {">": ours > theirs, ">=": ours >= theirs, "<": ours < theirs}.get(
            self.op, ours <= theirs
        )


_NPM_NUMBER = r"x|X|\*|0|[1-9][0-9]*"
_NPM_PART = r"[a-zA-Z0-9.-]*"
_NPM_BLOCK = re.compile(
    rf"^(?:v)?(?P<op><|<=|>=|>|=|\^|~|)(?P<major>{_NPM_NUMBER})"
    rf"(?:\.(?P<minor>{_NPM_NUMBER})(?:\.(?P<patch>{_NPM_NUMBER}))?)?"
    rf"(?:-(?P<prerel>{_NPM_PART}))?(?:\+(?P<build>{_NPM_PART}))?$"
)


def _number(text: str | None) -> int | None:
    return None if text is None or text in ("*", "x", "X") else int(text)


def _simple(block: str) -> list[_Range]:
    """The clauses of one npm comparator (`NpmSpec.Parser.parse_simple`)."""
    match = _NPM_BLOCK.match(block)
    if match is None:
        raise ValueError(f"invalid npm block {block!r}")
    prefix = match["op"] or "="
    major, minor, patch = (_number(match[part]) for part in ("major", "minor", "patch"))
    prerel: str | None = match["prerel"]
    build: str | None = match["build"] if prefix == "=" else None
    if major is None:  # *, x
        if prefix not in ("=", ">=") or prerel or build:
            raise ValueError(f"invalid npm block {block!r}")
        return [_Range(">=", _Semver(0, 0, 0))]
    if (minor is None or patch is None) and (prerel or build):
        raise ValueError(f"invalid npm block {block!r}")
    if minor is None:
        target = _Semver(major, 0, 0)
    elif patch is None:
        target = _Semver(major, minor, 0)
    else:
        target = _Semver(
            major, minor, patch, _identifiers(prerel), _identifiers(build, leading_zeros=True)
        )
    if prefix == "^":
        if target.major or minor is None:
            high = target.truncate().next_major()
        elif target.minor or patch is None:
            high = target.truncate().next_minor()
        else:
            high = target.truncate().next_patch()
        return [_Range(">=", target), _Range("<", high)]
    if prefix == "~":
        high = target.next_major() if minor is None else target.next_minor()
        return [_Range(">=", target), _Range("<", high)]
    if prefix in ("=", ">", "<="):
        partial = target.next_major() if minor is None else target.next_minor()
        if minor is None or patch is None:
            if prefix == "=":
                return [_Range(">=", target), _Range("<", partial)]
            return [_Range(">=" if prefix == ">" else "<", partial)]
        return [_Range("==" if prefix == "=" else prefix, target)]
    return [_Range(prefix, target)]  # >=, <


def _npm_spec(expression: str) -> list[list[_Range]]:
    """An npm range expression as alternatives (any of) of clauses (all of)."""
    alternatives: list[list[_Range]] = []
    for raw in expression.split("||"):
        group = raw.strip() or ">=0.0.0"
        clauses: list[_Range] = []
        if " - " in group:
            low, high = group.split(" - ", 2)  # a third part does not unpack: invalid
            clauses = _simple(">=" + low) + _simple("<=" + high)
        else:
            for block in group.split(" "):
                clauses.extend(_simple(block))
        prerelease: list[_Range] = []
        released: list[_Range] = []
        for clause in clauses:
            target = clause.target
            if not target.prerelease:
                released.append(clause)
                continue
            if clause.op in (">", ">="):
                upper = _Semver(target.major, target.minor, target.patch + 1)
                prerelease.append(_Range("<", upper, natural=False))
            elif clause.op in ("<", "<="):
                prerelease.append(_Range(">=", _Semver(target.major, target.minor, 0), False))
            prerelease.append(clause)
            released.append(_Range(clause.op, target.truncate()))
        if prerelease:
            alternatives.append(prerelease)
        alternatives.append(released)
    return alternatives


def version_satisfies(constraint: str, version: str) -> bool:
    """Whether Saleor ``version`` satisfies the npm range ``constraint``; ValueError if the
    constraint does not parse."""
    found = _saleor_semver(version)
    return any(all(clause.match(found) for clause in group) for group in _npm_spec(constraint))
