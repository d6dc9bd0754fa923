"""GatehouseRoute: use cases named on a route's parameters are checked when the route is built."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter

from api.deps import GatehouseRoute, UseCase
from application.log_in import LogIn
from application.log_out import LogOut


def test_a_use_case_the_container_has_no_provider_for_is_refused() -> None:
    with pytest.raises(LookupError, match="no provider 'log_inn'"):
        UseCase("log_inn")


def test_a_parameter_annotated_with_another_class_than_its_provider_makes_is_refused() -> None:
    router = APIRouter(route_class=GatehouseRoute)

    async def route(log_in: Annotated[LogOut, UseCase("log_in")]) -> None: ...

    with pytest.raises(TypeError, match="makes LogIn, not LogOut"):
        router.add_api_route("/x", route)


def test_a_route_taking_use_cases_must_be_async() -> None:
    router = APIRouter(route_class=GatehouseRoute)

    def route(log_in: Annotated[LogIn, UseCase("log_in")]) -> None: ...

    with pytest.raises(TypeError, match="must be `async def`"):
        router.add_api_route("/x", route)


def test_use_case_parameters_are_not_request_parameters() -> None:
    router = APIRouter(route_class=GatehouseRoute)

    async def route(log_in: Annotated[LogIn, UseCase("log_in")], limit: int = 5) -> None: ...

    router.add_api_route("/x", route)
    [added] = router.routes
    assert isinstance(added, GatehouseRoute)
    assert [p.name for p in added.dependant.query_params] == ["limit"]
    assert added.dependant.dependencies == []
