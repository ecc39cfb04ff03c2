"""Hand one built message to an account's SMTP server (aiosmtplib) and say what happened,
in terms the outbox can act on: sent, retry later, or failed for good.

- `sent`: the server accepted the message for at least one recipient (refused recipients
  are listed).
- `retry`: the server or the network said "not now" (4xx, a dropped connection, a timeout).
- `failed`: the server refused the message (5xx), or the account's settings are wrong
  (authentication refused, TLS cannot be negotiated): retrying without a change cannot
  help, so the message shows the server's own words and the draft stays recoverable.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib

Security = Literal["none", "starttls", "tls"]
Outcome = Literal["sent", "retry", "failed"]
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None
    timeout_s: float = 60.0
    tls_context: ssl.SSLContext | None = None  # None: the system's trust store

    def __post_init__(self) -> None:
        if self.security == "none" and self.host not in LOOPBACK:
            raise ValueError("smtp security 'none' is only allowed for a loopback server")


@dataclass(frozen=True)
class SmtpResult:
    outcome: Outcome
    code: int | None = None  # the server's reply code, when it gave one
    message: str = ""  # the server's words, or what went wrong on the way
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> reason


async def deliver(
    server: SmtpServer, sender: str, recipients: list[str], message: bytes
) -> SmtpResult:
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=server.security == "tls",
        start_tls=server.security == "starttls",
        timeout=server.timeout_s,
        tls_context=server.tls_context,
    )
    connection: asyncio.BaseTransport | None = None
    try:
        await client.connect()
        connection = client.transport  # kept: a refusal may make the client forget it
        if server.username:
            await client.login(server.username, server.password or "")
        refused, reply = await client.sendmail(sender, recipients, message)
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()  # the message is accepted; a failed goodbye changes nothing
    except aiosmtplib.SMTPAuthenticationError as exc:
        return SmtpResult("failed", exc.code, f"authentication refused: {exc.message}")
    except aiosmtplib.SMTPRecipientsRefused as exc:
        reasons = {r.recipient: f"{r.code} {r.message}" for r in exc.recipients}
        transient = all(400 <= r.code < 500 for r in exc.recipients)
        code = exc.recipients[0].code if exc.recipients else None
        text = "every recipient was refused"
        return SmtpResult("retry" if transient else "failed", code, text, reasons)
    except aiosmtplib.SMTPResponseException as exc:
        outcome: Outcome = "retry" if 400 <= exc.code < 500 else "failed"
        return SmtpResult(outcome, exc.code, exc.message)
    except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
        return SmtpResult("retry", None, f"timed out: {exc}")
    except ssl.SSLError as exc:
        return SmtpResult("failed", None, f"TLS failed: {exc}")
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
        return SmtpResult("retry", None, f"connection failed: {exc}")
    except aiosmtplib.SMTPException as exc:  # the server cannot do what the account needs
        return SmtpResult("failed", None, str(exc))
    finally:
        # After a refusal the connection is still open: drop it at once. A TLS close would
        # wait for the peer's close_notify after we have returned, and leak the socket.
        client.close()
        if connection is not None:
            connection.abort()  # type: ignore[attr-defined]
            await asyncio.sleep(0)  # the socket closes on the loop's next turn
    refusals = {rcpt: f"{resp.code} {resp.message}" for rcpt, resp in refused.items()}
    return SmtpResult("sent", 250, reply, refusals)
