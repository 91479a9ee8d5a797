"""POST /media: the control's "upload media file" button. Multipart (field `file`) or a raw body with
`Content-Type` and `X-Filename`; answers the URL to put in the media URL box."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast
from urllib.parse import unquote

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from shared.api.guard import guarded, record_request
from shared.api.responses import ApiResponse, error_response, json_response
from shared.auth.entra import Principal
from shared.conversations.ports import StoreUnavailable
from shared.media.rules import LARGEST, MediaRejected
from shared.media.upload import upload
from shared.services import Services

FILE_FIELD = b"file"
SPOOL_BYTES = 1024 * 1024


class UploadError(ValueError):
    pass


class _FilePart:
    """Collects the `file` part of a multipart body into a temporary file that spills to disk past
    1 MB, so a large upload is not copied again in memory."""

    def __init__(self) -> None:
        self.header_field = b""
        self.header_value = b""
        self.disposition: dict[bytes, bytes] = {}
        self.current: tempfile.SpooledTemporaryFile[bytes] | None = None
        self.found: tuple[tempfile.SpooledTemporaryFile[bytes], str] | None = None

    def on_part_begin(self) -> None:
        self.disposition, self.current = {}, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_field.lower() == b"content-disposition":
            self.disposition = parse_options_header(self.header_value)[1]
        self.header_field = self.header_value = b""

    def on_headers_finished(self) -> None:
        if self.disposition.get(b"name") == FILE_FIELD and self.found is None:
            # Not a `with`: the file is handed to the caller, and closes when it is collected.
            self.current = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
            filename = self.disposition.get(b"filename", b"upload").decode("utf-8", "replace")
            self.found = (self.current, filename)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current is not None:
            self.current.write(memoryview(data)[start:end])  # a view: no copy of the slice


def _multipart_file(body: bytes, content_type: str) -> tuple[BinaryIO, str]:
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        raise UploadError("multipart/form-data without a boundary")
    part = _FilePart()
    callbacks: Any = {
        name: getattr(part, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
        )
    }
    try:
        parser = MultipartParser(boundary, callbacks, max_size=LARGEST + 1024 * 1024)
        view = memoryview(body)
        for offset in range(0, len(view), SPOOL_BYTES):  # fed in pieces: the parser's copies stay small
            parser.write(bytes(view[offset : offset + SPOOL_BYTES]))
        parser.finalize()
    except (FormParserError, ValueError) as error:
        raise UploadError(f"the multipart body could not be read: {error}") from error
    if part.found is None:
        raise UploadError("no `file` field in the multipart body")
    handle, filename = part.found
    handle.seek(0)
    return cast(BinaryIO, handle), filename


def upload_media(
    body: bytes,
    headers: Mapping[str, str],
    params: Mapping[str, str],
    authorization: str | None,
    services: Services,
) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        record_request(agent, params, services)  # the panel's record: the agent must be able to read it
        return _upload(body, headers, services)

    return guarded(authorization, services, answer)


def _upload(body: bytes, headers: Mapping[str, str], services: Services) -> ApiResponse:
    content_type = headers.get("Content-Type", "")
    try:
        if content_type.lower().startswith("multipart/form-data"):
            content, filename = _multipart_file(body, content_type)
        else:
            filename = unquote(headers.get("X-Filename", ""))
            if not filename:
                raise UploadError("send the file as multipart/form-data (field `file`) or set X-Filename")
            content = io.BytesIO(body)
        result = upload(
            services.media, content, filename, services.settings.MEDIA_URL_MINUTES, datetime.now(UTC)
        )
    except UploadError as error:
        return error_response(400, "invalid_request", str(error))
    except MediaRejected as error:
        code = {400: "empty_file", 413: "file_too_large", 415: "unsupported_media_type"}[error.status]
        return error_response(error.status, code, str(error))
    except StoreUnavailable:
        return error_response(503, "store_unavailable", "Media storage is unavailable; try again.")
    return json_response(201, result.to_json())
