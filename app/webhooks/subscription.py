"""What a webhook receiver is: an http(s) URL and a Standard Webhooks secret (``whsec_`` + base64 of 24 to 64
random bytes, as the Standard Webhooks specification recommends). Checked the same way for GARDEN_WEBHOOKS and
``garden webhooks add``; errors are one sentence saying what is expected."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

PREFIX = "whsec_"
MIN_BYTES, MAX_BYTES = 24, 64


def checked_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host that httpx can send to; else ValueError saying what is
    expected (quoting the URL without any password it holds: errors end up in logs)."""
    example = "expected an http(s) URL such as https://example.org/hook"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ValueError(f"{_quoted(url)} is not a URL; {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{_quoted(url)} is not an http(s) URL with a host; {example}")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise ValueError(f"{_quoted(url)} holds spaces or control characters; {example}")
    try:
        httpx.URL(url).host.encode("idna")  # what the delivery will do: a host such as a..b fails here, not there
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise ValueError(f"{_quoted(url)} has a host name that cannot be sent to; {example}") from None
    return url


def _quoted(url: str) -> str:
    """``url`` for an error message: any ``user:password@`` left out."""
    try:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    except ValueError:
        pass
    return repr(url)


def checked_secret(secret: str) -> str:
    """``secret`` if it is whsec_ + base64 of 24 to 64 bytes; else ValueError saying what is expected."""
    expected = f"expected {PREFIX} followed by the base64 of {MIN_BYTES} to {MAX_BYTES} random bytes"
    if not secret.startswith(PREFIX):
        raise ValueError(f"a secret starts with {PREFIX}; {expected}")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the secret after {PREFIX} is not base64; {expected}") from None
    if not MIN_BYTES <= len(key) <= MAX_BYTES:
        raise ValueError(f"the secret holds {len(key)} bytes; {expected}")
    return secret


def new_secret() -> str:
    """A fresh secret: 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class Subscription(BaseModel):
    """One receiver of GARDEN_WEBHOOKS: ``{"url": "https://…", "secret": "whsec_…"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    secret: str

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, value: Any) -> Any:
        shape = 'each receiver is {"url": "https://…", "secret": "whsec_…"}'
        if not isinstance(value, dict):
            raise ValueError(f"{shape}, not a {type(value).__name__}")  # the value may be a secret: not quoted
        missing = [key for key in ("url", "secret") if not isinstance(value.get(key), str)]
        extra = sorted(set(value) - {"url", "secret"})
        if missing or extra:
            wrong = [f"no {key!r} string" for key in missing] + [f"an unknown key {key!r}" for key in extra]
            raise ValueError(f"{shape}; one has {' and '.join(wrong)}")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return checked_url(value)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        return checked_secret(value)
