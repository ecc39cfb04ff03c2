"""One frozen `Settings`, read from the environment once at start-up.

Every setting is declared with `setting(...)`: its environment variable, its default and a
line of help. `tests/test_settings.py` fails when one of them is missing from the README.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


def setting(env: str, default: Any, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


class SettingsError(ValueError):
    """A setting in the environment has a value Tandem cannot use."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = setting(
        "TANDEM_DATA_DIR", Path("data"), "Directory for the SQLite database and the secret key."
    )
    database_url: str = setting(
        "DATABASE_URL",
        "",
        "`postgresql://…` for PostgreSQL; empty means SQLite at `$TANDEM_DATA_DIR/tandem.db`.",
    )
    redis_url: str = setting(
        "REDIS_URL", "", "`redis://…` to fan out across processes; empty means in-process only."
    )
    secret_key: str = setting(
        "SECRET_KEY",
        "",
        "Key for signing; generated into `$TANDEM_DATA_DIR/secret_key` when empty.",
    )
    host: str = setting("TANDEM_HOST", "127.0.0.1", "Address `tandem serve` listens on.")
    port: int = setting("TANDEM_PORT", 8000, "Port `tandem serve` listens on.")
    forwarded_allow_ips: str = setting(
        "TANDEM_FORWARDED_ALLOW_IPS",
        "127.0.0.1",
        "Proxies trusted for X-Forwarded-For (comma-separated, `*` for any): the client address"
        " used by the sign-in rate limit.",
    )
    cookie_secure: bool = setting(
        "TANDEM_COOKIE_SECURE", False, "Mark the session cookie `Secure` (set it behind HTTPS)."
    )
    session_days: int = setting("TANDEM_SESSION_DAYS", 30, "Lifetime of a browser session.")
    login_attempts: int = setting(
        "TANDEM_LOGIN_ATTEMPTS", 10, "Failed sign-ins allowed per email and per IP per window."
    )
    login_window_s: int = setting(
        "TANDEM_LOGIN_WINDOW_S", 300, "Length of the sign-in rate-limit window, in seconds."
    )
    max_frame_bytes: int = setting(
        "TANDEM_MAX_FRAME_BYTES", 4 * 1024 * 1024, "Largest websocket frame accepted."
    )
    max_document_bytes: int = setting(
        "TANDEM_MAX_DOCUMENT_BYTES",
        16 * 1024 * 1024,
        "Largest encoded size a document may grow to; further updates are refused.",
    )
    max_attachment_bytes: int = setting(
        "TANDEM_MAX_ATTACHMENT_BYTES",
        25 * 1024 * 1024,
        "Total size of the files attached to one draft (or one canned response).",
    )
    max_connections_per_document: int = setting(
        "TANDEM_MAX_CONNECTIONS_PER_DOCUMENT", 500, "Connections one document accepts."
    )
    max_bytes_before_auth: int = setting(
        "TANDEM_MAX_BYTES_BEFORE_AUTH",
        1024 * 1024,
        "Bytes a `/ws` socket may send before its documents are authenticated.",
    )
    max_documents_per_socket: int = setting(
        "TANDEM_MAX_DOCUMENTS_PER_SOCKET", 100, "Documents one `/ws` socket may open."
    )
    auth_timeout_s: float = setting(
        "TANDEM_AUTH_TIMEOUT_S", 10.0, "Seconds a `/ws` socket has to authenticate a document."
    )
    send_queue_messages: int = setting(
        "TANDEM_SEND_QUEUE_MESSAGES",
        2048,
        "Messages queued for one connection before it is closed as a slow consumer.",
    )
    unload_grace_s: float = setting(
        "TANDEM_UNLOAD_GRACE_S", 30.0, "Seconds a document stays loaded after its last client."
    )
    awareness_timeout_s: float = setting(
        "TANDEM_AWARENESS_TIMEOUT_S",
        30.0,
        "Seconds without renewal after which a client's awareness state is dropped.",
    )
    compact_after_updates: int = setting(
        "TANDEM_COMPACT_AFTER_UPDATES", 500, "Log entries that trigger a compaction."
    )
    compact_after_bytes: int = setting(
        "TANDEM_COMPACT_AFTER_BYTES", 1024 * 1024, "Log bytes that trigger a compaction."
    )
    catchup_interval_s: float = setting(
        "TANDEM_CATCHUP_INTERVAL_S",
        2.0,
        "With Redis: how often a process checks the log for updates it missed.",
    )
    log_level: str = setting("TANDEM_LOG_LEVEL", "INFO", "Python logging level.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.metadata["env"], raw, type(f.default))
        settings = cls(**values)
        if not settings.secret_key:
            settings = _with_generated_secret(settings)
        return settings

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "tandem.db"

    @classmethod
    def documented(cls) -> list[tuple[str, Any, str]]:
        return [(f.metadata["env"], f.default, f.metadata["help"]) for f in fields(cls)]


def _parse(env: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind is Path:
            return Path(raw)
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{env}={raw!r} is not a valid {kind.__name__}") from None


def _with_generated_secret(settings: Settings) -> Settings:
    from dataclasses import replace

    path = settings.data_dir / "secret_key"
    if path.exists():
        return replace(settings, secret_key=path.read_text().strip())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return replace(settings, secret_key=key)
