"""The baseline of `bench.media`: a bare Starlette app answering a few URL paths, each with a
`FileResponse` of one file, served through the very `uvicorn.run` call of `shutterbox serve`.

Run from the repository root as `python -m bench.bare_files [SERVE OPTIONS]`, with
``BENCH_BARE_FILES`` set to a JSON object {URL path: file}. It runs `shutterbox serve [SERVE
OPTIONS]` with `uvicorn.run` wrapped so that uvicorn serves this module's `app` instead of
shutterbox's (which is built but never started): the event loop, HTTP implementation, process
count, logging, access log and proxy headers are whatever `shutterbox serve` gives uvicorn,
now and after any change to it. The settings are printed on a line starting with
``SETTINGS_MARKER``. Any other path answers 404.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

FILES_VARIABLE = "BENCH_BARE_FILES"
SETTINGS_MARKER = "bare_files: uvicorn.run settings "
APP = "bench.bare_files:app"  # an import string also works with several uvicorn workers

FILES: dict[str, str] = json.loads(os.environ.get(FILES_VARIABLE, "{}"))


async def send_file(request: Request) -> Response:
    file = FILES.get(request.scope["path"])
    if file is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(file, media_type="image/jpeg")


app = Starlette(routes=[Route("/{path:path}", send_file)])


def main(argv: list[str]) -> int:
    from shutterbox.entrypoints import cli

    real_run = uvicorn.run
    called = []

    def run_bare(_shutterbox_app: object, *args: Any, **settings: Any) -> None:
        called.append(True)
        settings.pop("factory", None)  # this app is an app, not a factory
        print(SETTINGS_MARKER + json.dumps(settings, sort_keys=True, default=repr), flush=True)
        real_run(APP, *args, **settings)

    uvicorn.run = run_bare  # type: ignore[assignment]  # what `serve` calls
    try:
        cli.app(["serve", *argv], prog_name="shutterbox")
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
    if not called:
        print("`shutterbox serve` no longer calls uvicorn.run: update bench/bare_files.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
