"""The JSON shapes of GeoReport v2, for the OpenAPI document (responses are rendered by formats.py; the XML
documents hold the same fields, see the README)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Service(BaseModel):
    service_code: str = Field(description="The report category's code.")
    service_name: str
    description: str
    metadata: bool = Field(description="Always false here: our categories ask for no extra fields.")
    type: Literal["realtime", "batch", "blackbox"] = Field(description="Always `realtime`: POST answers with the id.")
    keywords: str
    group: str | None = Field(description="The category's default department.")


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute] = Field(description="Empty: our categories ask for no extra fields.")


class ServiceRequest(BaseModel):
    service_request_id: int = Field(description="The report's id (as in /api/v1/reports/{report_id}).")
    status: Literal["open", "closed"] = Field(
        description="open: submitted, accepted, dispatched, in_progress. closed: resolved, closed, rejected, merged.")
    status_notes: str | None = Field(description="The last public note of a step (internal notes never).")
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None = Field(description="The department handling it.")
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str = Field(description="The last public step.")
    expected_datetime: str | None = Field(description="The deadline to resolve it (set when it is accepted).")
    address: str | None = Field(description="The reporter's address text, or building, community, street.")
    address_id: int | None = Field(description="The building's id (a grid node, as in /api/v1/places).")
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None = Field(description="A signed URL of its first published photo (expires).")


class PostedRequest(BaseModel):
    service_request_id: int
    service_notice: str | None
    account_id: str | None


class TokenRequest(BaseModel):
    service_request_id: int
    token: str = Field(description="The report number, e.g. BS20261122-0001.")


class Open311Error(BaseModel):
    code: int = Field(description="The HTTP status.")
    description: str
