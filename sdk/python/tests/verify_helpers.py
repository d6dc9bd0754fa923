"""The sibling service of gatehouse-verify's tests: a FastAPI app whose routes are guarded by a verifier."""

# No `from __future__ import annotations`: the routes below are defined in a function and their
# annotations name its local `verifier`, which FastAPI can only see when they are evaluated in place.
from typing import Annotated

from fastapi import Depends, FastAPI

from gatehouse_verify import Claims, GatehouseVerifier


def sibling_app(verifier: GatehouseVerifier) -> FastAPI:
    """The app of the README: routes behind `verifier.require(...)` that echo what they were given."""
    app = FastAPI()

    @app.get("/orders")
    async def orders(claims: Annotated[Claims, Depends(verifier.require())]) -> dict[str, object]:
        return {"sub": claims.subject, "sid": claims.session_id, "roles": sorted(claims.roles)}

    @app.get("/admin")
    async def admin(claims: Annotated[Claims, Depends(verifier.require(roles={"admin"}))]) -> dict[str, str]:
        return {"sub": claims.subject}

    @app.get("/reports")
    async def reports(claims: Annotated[Claims, Depends(verifier.require(scopes={"reports:read"}))]
                      ) -> dict[str, str]:
        return {"sub": claims.subject}

    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
