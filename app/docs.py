"""The interactive API reference, served whole by this server: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc).

FastAPI's own pages load Swagger UI, ReDoc, their CSS, a favicon and Google's web fonts from CDNs, and show a
blank page where those cannot be reached. Here the same pages (FastAPI's ``get_swagger_ui_html`` and
``get_redoc_html``, with its Swagger UI defaults) take their JavaScript, CSS and favicon from the files the
``fastapi-offline`` package ships, mounted at ``/docs/assets``, and ReDoc uses the system's fonts instead of web
fonts. Swagger UI's online validator badge, the one other outside request it makes, is turned off. ReDoc's
sidebar loads the Redocly logo from its CDN whatever its options say: both pages carry a Content-Security-Policy
that lets them load only from this server (inline scripts and styles, data: images and blob: workers aside, which
both need), so a browser does not even ask. The pages work on a machine with no outside network, and a browser
opening them asks nothing of any other host (tests/test_docs_offline.py checks that in headless Chromium).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

ASSETS = "/docs/assets"
#: Swagger UI, ReDoc and the favicon, as the installed package ships them.
STATIC = Path(str(files("fastapi_offline").joinpath("static")))
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
#: Only this server: no CDN, font service or image host, even where the bundled code names one.
POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)


def _local(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = POLICY
    return page


def install_docs(app: FastAPI) -> None:
    """Mount the assets and add ``/docs``, its OAuth2 redirect page, and ``/redoc`` (none in the OpenAPI document).
    ``app`` is made with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")
    parameters = {"validatorUrl": None, **(app.swagger_ui_parameters or {})}

    def _root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_swagger_ui_html(
            openapi_url=root + app.openapi_url if app.openapi_url else "",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + OAUTH2_REDIRECT,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters=parameters,
        )
        return _local(page)

    async def oauth2_redirect(_request: Request) -> HTMLResponse:
        return _local(get_swagger_ui_oauth2_redirect_html())

    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_redoc_html(
            openapi_url=root + app.openapi_url if app.openapi_url else "",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        return _local(page)

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT, oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
