"""Protect a FastAPI service with access tokens issued by Gatehouse.

    verifier = GatehouseVerifier(issuer="https://auth.example.com", audience="gatehouse")

    @app.get("/orders")
    async def orders(claims: Annotated[Claims, Depends(verifier.require(roles={"admin"}))]): ...
"""

from gatehouse_verify.claims import Claims
from gatehouse_verify.errors import ConfigurationError, InsufficientScope, InvalidToken, Unavailable, VerificationError
from gatehouse_verify.verifier import GatehouseVerifier

__all__ = [
    "Claims",
    "ConfigurationError",
    "GatehouseVerifier",
    "InsufficientScope",
    "InvalidToken",
    "Unavailable",
    "VerificationError",
]
