"""/docs: Swagger UI from the package (fastapi-offline's copy: no CDN), with the *Authorize* dialog
showing only what Gatehouse uses. Its token endpoint takes no client authentication (first-party
clients), so the dialog's client_id, client_secret and "client credentials location" fields, which
Swagger UI always shows for the password flow, are hidden: a person fills in email and password."""

from __future__ import annotations

import functools
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

STATIC_URL = "/static-offline-docs"  # where fastapi-offline mounts Swagger UI's files
_HIDDEN = """
/* Gatehouse: the token endpoint takes no client authentication */
.auth-container .wrapper:has(> label[for="password_type"]),
.auth-container .wrapper:has(> label[for^="client_id"]),
.auth-container .wrapper:has(> label[for^="client_secret"]) { display: none; }
"""


@functools.cache
def _stylesheet() -> bytes:
    original = Path(fastapi_offline.__file__).parent / "static" / "swagger-ui.css"
    return original.read_bytes() + _HIDDEN.encode()


def install_docs(app: FastAPI) -> None:
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=redirect_url, swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/gatehouse-swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters)

    @app.get("/docs/gatehouse-swagger-ui.css", include_in_schema=False)
    async def stylesheet() -> Response:
        return Response(_stylesheet(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @app.get(redirect_url, include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
