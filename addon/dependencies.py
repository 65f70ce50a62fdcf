"""FastAPI dependencies shared by every endpoint module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from addon.services import Services


def services_of(request: Request) -> Services:
    """The app's services (the composition root put them in the app's state)."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    # async: FastAPI runs a plain function in a worker thread, a hop per request for nothing.
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the endpoint returns without error."""
    async with services.db.transaction() as session:
        yield session


# Committed before the answer is sent (`scope="function"`): by default FastAPI ends a yield
# dependency after sending, so a client could send its next request, and read or write the
# same rows, before this one's commit (a dashboard's PUT then failed on the row its PATCH had
# just created), and a commit that failed came after a 200.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


ServiceT = TypeVar("ServiceT")


def service_dependency(factory: Callable[[AsyncSession, Services], ServiceT]) -> Any:
    """A dependency giving an endpoint its capability service on the request's session:
    `Annotated[EcommerceService, service_dependency(EcommerceService)]`."""

    async def build(session: SessionDep, services: ServicesDep) -> ServiceT:
        return factory(session, services)

    return Depends(build)
