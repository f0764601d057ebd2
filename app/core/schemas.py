"""Schema bases shared by every domain: strict input, ORM-readable output, cursor pages."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")


def contains_nul(value: Any) -> bool:
    """True if a NUL character hides anywhere in this JSON value (walked without recursion: any depth)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return False


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, strings trimmed, NUL characters refused (PostgreSQL text
    cannot hold them: the driver would fail the request with a 500)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if contains_nul(data):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return data


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):  # noqa: UP046 - PEP 695 needs Python 3.12
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page.")


def if_sent(**kw: Any) -> Any:
    """A PATCH field that may be left out but, when sent, must have a value: its type stays non-nullable in
    OpenAPI and an explicit null is a 422. The default None (never validated) means "not sent"; services read the
    body with `model_dump(exclude_unset=True)`."""
    return Field(default=None, **kw)
