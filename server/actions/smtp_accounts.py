"""An account's outgoing server: checked, sealed and stored; and read back as what
`sync.smtp.deliver` needs. The password is sealed with the server's secret key
(`server.sealing`) before it reaches the database."""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import InvalidInput
from server.sealing import seal, unseal
from server.settings import Settings
from server.storage.base import Storage
from server.storage.mail import Account, StoredSmtp
from sync.smtp import LOOPBACK, SmtpServer

SECURITIES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class SmtpInput:
    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = None


def check(smtp: SmtpInput) -> None:
    """Bad settings are named before anything is stored (`smtp.host`, `smtp.port`, …)."""
    if not smtp.host.strip() or any(c.isspace() for c in smtp.host.strip()):
        raise InvalidInput("smtp host must be a host name or address", field="smtp.host")
    if not 1 <= smtp.port <= 65535:
        raise InvalidInput("smtp port must be between 1 and 65535", field="smtp.port")
    if smtp.security not in SECURITIES:
        raise InvalidInput(
            f"smtp security is one of {', '.join(SECURITIES)}", field="smtp.security"
        )
    if smtp.security == "none" and smtp.host.strip() not in LOOPBACK:
        raise InvalidInput(
            "smtp security 'none' is only allowed for a loopback server", field="smtp.security"
        )
    if (smtp.username is None) != (smtp.password is None):
        field = "smtp.password" if smtp.username is not None else "smtp.username"
        raise InvalidInput("smtp username and password go together", field=field)


async def configure(
    storage: Storage, settings: Settings, account: Account, smtp: SmtpInput
) -> None:
    check(smtp)
    sealed = seal(settings.secret_key, smtp.password, account.id) if smtp.password else None
    stored = StoredSmtp(smtp.host.strip(), smtp.port, smtp.security, smtp.username, sealed)
    await storage.set_account_smtp(account.id, stored)


async def server_for(storage: Storage, settings: Settings, account: Account) -> SmtpServer | None:
    """The account's SMTP server with its password unsealed, or None if it has none."""
    stored = await storage.account_smtp(account.id)
    if stored is None:
        return None
    password = (
        unseal(settings.secret_key, stored.password_sealed, account.id)
        if stored.password_sealed is not None
        else None
    )
    return SmtpServer(
        host=stored.host,
        port=stored.port,
        security=stored.security,  # type: ignore[arg-type]
        username=stored.username,
        password=password,
    )
