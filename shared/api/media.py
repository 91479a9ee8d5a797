"""POST /media: the control's "upload media file" button. Multipart (field `file`) or a raw body with
`Content-Type` and `X-Filename`; answers the URL to put in the media URL box."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import unquote

from python_multipart import create_form_parser
from python_multipart.exceptions import FormParserError

from shared.api.guard import caller
from shared.api.responses import ApiResponse, error_response, json_response
from shared.conversations.ports import StoreUnavailable
from shared.media.rules import LARGEST, MediaRejected
from shared.media.upload import upload
from shared.services import Services

FILE_FIELD = b"file"


class UploadError(ValueError):
    pass


def _multipart_file(body: bytes, content_type: str) -> tuple[BinaryIO, str]:
    """The `file` part, spooled to a temporary file past 1 MB so large uploads are not copied in memory."""
    found: dict[str, Any] = {}

    def on_file(part: Any) -> None:
        if part.field_name == FILE_FIELD and "file" not in found:
            found["file"] = part

    try:
        parser = create_form_parser(
            {"Content-Type": content_type.encode()},
            on_field=None,
            on_file=on_file,
            config={"MAX_BODY_SIZE": LARGEST + 1024 * 1024},
        )
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError) as error:
        raise UploadError(f"the multipart body could not be read: {error}") from error
    part = found.get("file")
    if part is None:
        raise UploadError("no `file` field in the multipart body")
    handle: BinaryIO = part.file_object
    handle.seek(0)
    return handle, (part.file_name or b"upload").decode("utf-8", "replace")


def upload_media(
    body: bytes, headers: Mapping[str, str], authorization: str | None, services: Services
) -> ApiResponse:
    if isinstance(agent := caller(authorization, services.settings), ApiResponse):
        return agent
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
