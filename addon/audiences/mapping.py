"""Merge-field mapping: which Saleor customer data fills which merge field of an audience, and
which customer metadata key holds the member's tags. Chosen by the admin on the Audiences page.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.merge_values import MergeFieldOptions, MergeFieldSpec
from addon.audiences.models import Audience, FieldMapping, FieldSource, MappingTarget
from addon.audiences.repository import AudienceRepository
from addon.audiences.schemas import MergeFieldInfo
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.repository import Repository
from addon.errors import BadRequest, ErrorCode, NotFound, UpstreamUnavailable
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.mailchimp import MailchimpClient, MailchimpError, MergeField, OutcomeUnknown
from addon.mailchimp.errors import BadRequest as MailchimpBadRequest
from addon.services import Services

# The Activity entry of a value left out of a member update (a done job: the page lists it).
VALUE_NOT_SENT = "subscriptions.merge_value_not_sent"
# A saved mapping fills the audience's existing members too (handled by subscriptions).
MAPPING_SAVED_JOB = "subscriptions.refresh_profiles"

METADATA_SOURCES = frozenset({FieldSource.METADATA, FieldSource.PRIVATE_METADATA})
ADDRESS_SOURCES = frozenset({FieldSource.BILLING_ADDRESS, FieldSource.SHIPPING_ADDRESS})
PHONE_SOURCES = frozenset({FieldSource.BILLING_PHONE, FieldSource.SHIPPING_PHONE})
# Which sources can fill a field of each Mailchimp type (anything converts to text).
COMPATIBLE: dict[str, frozenset[FieldSource]] = {
    "text": frozenset(FieldSource),
    "address": ADDRESS_SOURCES,
    "phone": PHONE_SOURCES | METADATA_SOURCES,
    "date": METADATA_SOURCES | {FieldSource.DATE_JOINED},
    "birthday": METADATA_SOURCES | {FieldSource.DATE_JOINED},
    "number": METADATA_SOURCES,
    "zip": METADATA_SOURCES,
    "url": METADATA_SOURCES,
    "imageurl": METADATA_SOURCES,
    "radio": METADATA_SOURCES | {FieldSource.LANGUAGE},
    "dropdown": METADATA_SOURCES | {FieldSource.LANGUAGE},
}
SOURCE_LABELS = {
    FieldSource.FIRST_NAME: "First name",
    FieldSource.LAST_NAME: "Last name",
    FieldSource.BILLING_PHONE: "Phone (default billing address)",
    FieldSource.SHIPPING_PHONE: "Phone (default shipping address)",
    FieldSource.BILLING_ADDRESS: "Default billing address",
    FieldSource.SHIPPING_ADDRESS: "Default shipping address",
    FieldSource.LANGUAGE: "Language",
    FieldSource.DATE_JOINED: "Date joined",
    FieldSource.METADATA: "Customer metadata key",
    FieldSource.PRIVATE_METADATA: "Customer private metadata key",
}
Key = Annotated[str, Field(max_length=255)]
# The app's own metadata keys (consent, statuses, engagement: `mailchimp.consent.subscribe`,
# `mailchimp.engagement`, `mailchimp.tags.*`): no merge field maps one, since two-way sync
# would let Mailchimp's value (the subscriber's, on its update-profile page) overwrite them.
APP_KEY_PREFIX = "mailchimp."


def is_app_key(key: str) -> bool:
    return key.strip().casefold().startswith(APP_KEY_PREFIX)


class FieldMappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merge_tag: str = Field(min_length=1, max_length=64)
    source: FieldSource
    key: Key = ""


class TagsMappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal[FieldSource.METADATA, FieldSource.PRIVATE_METADATA]
    # Stripped before it is checked: a key of spaces alone is no key (it was saved blank, and
    # every read of the mapping failed).
    key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class MappingUpdate(BaseModel):
    """The whole mapping of one audience (fields left out are no longer filled)."""

    model_config = ConfigDict(extra="forbid")

    fields: list[FieldMappingIn] = Field(default_factory=list, max_length=100)
    tags: TagsMappingIn | None = None


class SourceInfo(BaseModel):
    value: FieldSource
    label: str
    needs_key: bool


class ValueNotSent(BaseModel):
    id: int
    message: str
    created_at: str


class MappingRead(BaseModel):
    list_id: str
    audience_name: str
    merge_fields: list[MergeFieldSpec]
    fields: list[FieldMappingIn]
    tags: TagsMappingIn | None
    sources: list[SourceInfo]
    # Which sources each merge field type takes.
    compatible: dict[str, list[FieldSource]]
    # Recent values left out of member updates (the Activity page lists them too).
    not_sent: list[ValueNotSent]


class NewMergeField(BaseModel):
    """A merge field to create in Mailchimp (`POST /lists/{list_id}/merge-fields`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    type: Literal[
        "text", "number", "address", "phone", "date", "birthday", "zip", "url", "imageurl"
    ]
    tag: str | None = Field(None, pattern=r"^[A-Za-z0-9_]{1,10}$")
    date_format: Literal["MM/DD/YYYY", "DD/MM/YYYY", "MM/DD", "DD/MM"] | None = None
    phone_format: Literal["US", "International"] | None = None

    @model_validator(mode="after")
    def _date_format_fits(self) -> NewMergeField:
        # A date carries its year, a birthday none: the formats Mailchimp offers each.
        allowed = {"date": ("MM/DD/YYYY", "DD/MM/YYYY"), "birthday": ("MM/DD", "DD/MM")}
        if self.date_format is None:
            return self
        if self.type not in allowed:
            raise ValueError("only a date or birthday field takes a date format")
        if self.date_format not in allowed[self.type]:
            raise ValueError(
                f"a {self.type} field takes the format " + " or ".join(allowed[self.type])
            )
        return self


class MappingRepository(Repository):
    async def for_audience(self, installation_id: int, list_id: str) -> list[FieldMapping]:
        statement = (
            FieldMapping.of_installation(installation_id)
            .where(FieldMapping.list_id == list_id)
            .order_by(FieldMapping.id)
        )
        return list(await self.session.scalars(statement))

    async def maps_addresses(self, installation_id: int, list_ids: Collection[str]) -> bool:
        """Whether one of these audiences fills a merge field from an address or its phone."""
        if not list_ids:
            return False
        statement = (
            FieldMapping.of_installation(installation_id)
            .where(
                FieldMapping.list_id.in_(list_ids),
                FieldMapping.source.in_(ADDRESS_SOURCES | PHONE_SOURCES),
            )
            .limit(1)
        )
        return (await self.session.scalars(statement)).first() is not None

    async def replace(self, installation_id: int, list_id: str, rows: list[FieldMapping]) -> None:
        # Saves of one audience's mapping take turns (the audience's row locked; PostgreSQL):
        # a second save's DELETE then sees the first's rows, where it missed them and its
        # INSERT failed on their key (two tabs, two admins).
        await self.session.execute(
            select(Audience.id)
            .where(Audience.installation_id == installation_id, Audience.list_id == list_id)
            .with_for_update()
        )
        await self.session.execute(
            delete(FieldMapping).where(
                FieldMapping.installation_id == installation_id, FieldMapping.list_id == list_id
            )
        )
        self.session.add_all(rows)
        await self.session.flush()


def merge_specs(audience: Audience) -> list[MergeFieldSpec]:
    return [MergeFieldSpec.model_validate(f) for f in audience.merge_fields]


def _check(update: MappingUpdate, specs: dict[str, MergeFieldSpec]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for item in update.fields:
        spec = specs.get(item.merge_tag)
        if spec is None:
            problems.append(f"the audience has no merge field {item.merge_tag}")
            continue
        if item.merge_tag in seen:
            problems.append(f"{item.merge_tag} is mapped twice")
        seen.add(item.merge_tag)
        if item.source in METADATA_SOURCES and not item.key.strip():
            problems.append(f"{spec.name or spec.tag}: name the metadata key")
        elif item.source in METADATA_SOURCES and is_app_key(item.key):
            problems.append(
                f"{spec.name or spec.tag}: “{item.key.strip()}” is one of the app's own "
                f"metadata keys (“{APP_KEY_PREFIX}…”); map another key"
            )
        allowed = COMPATIBLE.get(spec.type, METADATA_SOURCES)
        if item.source not in allowed:
            article = "an" if spec.type[:1] in "aeiou" else "a"
            problems.append(
                f"{spec.name or spec.tag} is {article} {spec.type} field; "
                f"{SOURCE_LABELS[item.source].lower()} cannot fill it"
            )
    return problems


class MappingService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.audiences = AudienceRepository(session)
        self.repository = MappingRepository(session)

    async def _active(self, installation_id: int, list_id: str) -> Audience:
        audience = await self.audiences.audience(installation_id, list_id)
        if audience is None or audience.removed_at is not None:
            raise NotFound("This audience is not in Mailchimp.", code=ErrorCode.UNKNOWN_AUDIENCE)
        if not audience.active:
            raise BadRequest(
                "Make the audience active before mapping its fields.",
                code=ErrorCode.UNKNOWN_AUDIENCE,
            )
        return audience

    async def read(self, installation_id: int, list_id: str) -> MappingRead:
        audience = await self._active(installation_id, list_id)
        rows = await self.repository.for_audience(installation_id, list_id)
        tags = next((r for r in rows if r.target is MappingTarget.TAGS), None)
        return MappingRead(
            list_id=list_id,
            audience_name=audience.name,
            merge_fields=merge_specs(audience),
            fields=[
                FieldMappingIn(merge_tag=r.merge_tag, source=r.source, key=r.key)
                for r in rows
                if r.target is MappingTarget.MERGE_FIELD
            ],
            tags=TagsMappingIn(source=tags.source, key=tags.key) if tags else None,
            sources=[
                SourceInfo(value=s, label=label, needs_key=s in METADATA_SOURCES)
                for s, label in SOURCE_LABELS.items()
            ],
            compatible={kind: sorted(sources) for kind, sources in COMPATIBLE.items()},
            not_sent=await self._not_sent(installation_id, list_id),
        )

    async def _not_sent(self, installation_id: int, list_id: str) -> list[ValueNotSent]:
        statement = (
            select(Job)
            .where(Job.installation_id == installation_id, Job.kind == VALUE_NOT_SENT)
            .order_by(Job.id.desc())
            .limit(200)
        )
        jobs = [
            j
            for j in await self.session.scalars(statement)
            if isinstance(j.payload, dict) and j.payload.get("list_id") == list_id
        ]
        return [
            ValueNotSent(id=j.id, message=j.last_error or "", created_at=j.created_at.isoformat())
            for j in jobs[:10]
        ]

    async def update(self, installation_id: int, list_id: str, body: MappingUpdate) -> MappingRead:
        audience = await self._active(installation_id, list_id)
        specs = {s.tag: s for s in merge_specs(audience)}
        problems = _check(body, specs)
        if problems:
            raise BadRequest(
                "The mapping was not saved: " + "; ".join(problems) + ".",
                code=ErrorCode.INVALID_MAPPING,
            )
        rows = [
            FieldMapping(
                installation_id=installation_id,
                list_id=list_id,
                target=MappingTarget.MERGE_FIELD,
                merge_tag=item.merge_tag,
                source=item.source,
                key=item.key.strip() if item.source in METADATA_SOURCES else "",
            )
            for item in body.fields
        ]
        if body.tags is not None:
            rows.append(
                FieldMapping(
                    installation_id=installation_id,
                    list_id=list_id,
                    target=MappingTarget.TAGS,
                    merge_tag="",
                    source=body.tags.source,
                    key=body.tags.key.strip(),
                )
            )
        await self.repository.replace(installation_id, list_id, rows)
        await JobRepository(self.session).enqueue(
            installation_id,
            MAPPING_SAVED_JOB,
            {"list_id": list_id},
            coalesce_key=f"{MAPPING_SAVED_JOB}:{list_id}",
        )
        return await self.read(installation_id, list_id)

    async def create_merge_field(
        self, installation_id: int, list_id: str, body: NewMergeField
    ) -> MappingRead:
        """Create the field in Mailchimp and add it to the imported ones at once.

        The audience is checked in a short session of its own and Mailchimp asked before the
        request's transaction begins (on SQLite it holds the write lock from its first
        statement); the field is then added in that transaction."""
        async with self.services.db.session() as read:
            before = await MappingService(read, self.services)._active(installation_id, list_id)
            known = {str(f.get("tag")) for f in before.merge_fields}
        options = MergeFieldOptions(date_format=body.date_format, phone_format=body.phone_format)
        extra = {"options": options.model_dump(exclude_none=True)}
        if not extra["options"]:
            extra = {}
        tag = body.tag.upper() if body.tag else None
        try:
            async with mailchimp_for(self.services, installation_id) as client:
                try:
                    created = await client.create_merge_field(
                        list_id, body.name.strip(), body.type, tag=tag, **extra
                    )
                except OutcomeUnknown:
                    # The answer was lost (sent once: `create_merge_field`): the field made,
                    # if Mailchimp made it, is read back.
                    found = await _made_field(client, list_id, body, tag, known)
                    if found is None:
                        raise
                    created = found
        except NotConnected:
            raise BadRequest(
                "Connect Mailchimp first.", code=ErrorCode.MAILCHIMP_NOT_CONNECTED
            ) from None
        except MailchimpBadRequest as exc:
            raise BadRequest(
                f"Mailchimp did not create the field: {exc.detail or exc}",
                code=ErrorCode.MERGE_FIELD_REFUSED,
            ) from exc
        except MailchimpError as exc:
            raise UpstreamUnavailable(
                f"Mailchimp could not be reached: {exc}", code=ErrorCode.MAILCHIMP_UNAVAILABLE
            ) from exc
        field = MergeFieldInfo.model_validate(created).model_dump()
        audience = await self._active(installation_id, list_id)
        audience.merge_fields = [
            f for f in audience.merge_fields if f.get("tag") != field["tag"]
        ] + [field]
        await self.session.flush()
        return await self.read(installation_id, list_id)


async def _made_field(
    client: MailchimpClient,
    list_id: str,
    body: NewMergeField,
    tag: str | None,
    known: set[str],
) -> MergeField | None:
    """The merge field a create whose answer was lost made: the one with its tag, else the
    newest with its name and type; either one the audience did not have (`known`: the tags
    imported, a tag among them would have been refused as taken)."""
    made = [
        f
        for f in [f async for f in client.merge_fields(list_id)]
        if f.tag not in known
        and (
            f.tag.upper() == tag
            if tag is not None
            else f.name == body.name.strip() and f.type == body.type
        )
    ]
    return max(made, key=lambda f: f.merge_id, default=None)


async def audience_mappings(
    session: AsyncSession, installation_id: int, list_id: str
) -> list[FieldMapping]:
    return await MappingRepository(session).for_audience(installation_id, list_id)
