"""Reading a multipart upload straight from the socket into a staging file.

The file part is never held in memory whole or spooled twice: its bytes go straight into a
``Stager`` (services/images/staging.py), which measures and sniffs them, refuses them as soon
as they pass the size limit, and hashes and writes them a block at a time in a worker thread;
the other form fields are collected here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from shutterbox.domain.errors import InvalidInput, PayloadTooLarge
from shutterbox.services.images.staging import StagedFile, Stager, too_large_message

MAX_FIELDS = 20
MAX_FIELD_BYTES = 64 * 1024
FILE_FIELD = "file"


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    file: StagedFile | None = None


class _Collector:
    def __init__(self, staging_dir: Path, max_bytes: int) -> None:
        self.staging_dir = staging_dir
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._buffer = bytearray()
        self.stager: Stager | None = None
        self.file_done = False

    # python-multipart callbacks -------------------------------------------------------
    def on_part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._is_file = False
        self._buffer = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.strip().lower()] = self._header_value.strip()
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise InvalidInput("a form part has no name")
        self._name = name.decode("utf-8", "replace")
        self._is_file = b"filename" in options or self._name == FILE_FIELD
        if self._is_file:
            if self._name != FILE_FIELD:
                raise InvalidInput(
                    f"unexpected file field {self._name!r}: send the picture as 'file'"
                )
            if self.stager is not None:
                raise InvalidInput("send one file per upload")
            self.stager = Stager(self.staging_dir, self.max_bytes)
        elif len(self.fields) >= MAX_FIELDS:
            raise InvalidInput(f"too many form fields (at most {MAX_FIELDS})")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = memoryview(data)[start:end]
        if self._is_file:
            assert self.stager is not None
            self.stager.take(chunk)
        else:
            self._buffer += chunk
            if len(self._buffer) > MAX_FIELD_BYTES:
                raise InvalidInput(f"the field {self._name!r} is too long")

    def on_part_end(self) -> None:
        if self._is_file:
            self.file_done = True
        elif self._name is not None:
            try:
                self.fields[self._name] = self._buffer.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"the field {self._name!r} is not UTF-8 text") from exc

    def discard(self) -> None:
        if self.stager is not None:
            self.stager.discard()


async def read_upload(request: Request, staging_dir: Path, max_bytes: int) -> ParsedUpload:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise InvalidInput("send the upload as multipart/form-data with a 'file' part")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MAX_FIELDS * MAX_FIELD_BYTES:
        raise PayloadTooLarge(too_large_message(max_bytes, "upload"))
    collector = _Collector(staging_dir, max_bytes)
    callbacks = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if collector.stager is not None and collector.stager.wants_drain:
                await collector.stager.drain()  # hashed and written beside other requests
        parser.finalize()
        if collector.stager is not None:
            await collector.stager.drain()
    except MultipartParseError as exc:
        collector.discard()
        # The parser's own message names byte offsets and character codes: not for people.
        raise InvalidInput(
            "the multipart body is malformed: its parts must be separated by the boundary "
            "named in the Content-Type header"
        ) from exc
    except ClientDisconnect as exc:
        collector.discard()
        raise InvalidInput("the upload was interrupted before it was complete") from exc
    except BaseException:
        collector.discard()
        raise
    return _finish(collector)


def _finish(collector: _Collector) -> ParsedUpload:
    if collector.stager is None or not collector.file_done:
        collector.discard()
        raise InvalidInput("the form has no complete 'file' part")
    try:
        staged = collector.stager.finish_picture()
    except BaseException:
        collector.discard()
        raise
    return ParsedUpload(fields=collector.fields, file=staged)
