"""The bodies every API answers with when it refuses a request, declared once for the OpenAPI
schema (`/api/schema/`), so clients and the schema fuzzer know which 4xx to expect and their shape.

They are what DRF's default exception handler renders: a `ValidationError` is an object of field
names (or `detail` / `non_field_errors`) to messages; `NotAuthenticated`, `PermissionDenied`,
`Http404`, `ParseError` and `UnsupportedMediaType` are `{"detail": "..."}`.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ErrorDetail"

    detail = serializers.CharField()


_MESSAGES = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}

BAD_REQUEST = OpenApiResponse(
    response={"type": "object", "additionalProperties": _MESSAGES, "minProperties": 1},
    description="The input is invalid: each key names a field (or `detail`, `non_field_errors`) "
    "and holds what is wrong with it.",
)
FORBIDDEN = OpenApiResponse(ErrorOutputSerializer, description="Not signed in, or not allowed to do this.")
NOT_FOUND = OpenApiResponse(
    ErrorOutputSerializer, description="No such shop (or record) among those the user is a member of."
)
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(
    ErrorOutputSerializer, description="The body is not of a media type this endpoint takes."
)

_BY_CODE = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`extend_schema(responses={200: Out, **error_responses(400, 403, 404)})`."""
    return {code: _BY_CODE[code] for code in codes}
