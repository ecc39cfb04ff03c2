"""Run Tandem under uvicorn with a given websocket implementation (for `python -m bench`)."""

from __future__ import annotations

import gc
import sys

import uvicorn

from server.app import create_app
from server.settings import Settings

if __name__ == "__main__":
    impl, port = sys.argv[1], int(sys.argv[2])
    settings = Settings.from_env()
    app = create_app(settings)
    gc.freeze()  # as `tandem serve` does
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        ws=impl,
        ws_max_size=settings.max_frame_bytes * 2,
        log_level="warning",
        access_log=False,
    )
