"""Handing a message to a real SMTP server (aiosmtpd on loopback): STARTTLS and implicit
TLS with AUTH, and every way a server says no, each turned into sent / retry / failed with
the server's own words."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sync.compose import Mailbox, Outgoing, build
from sync.smtp import SmtpServer, deliver
from tests.fixtures.smtp import PASSWORD, USERNAME, SmtpFixture


@pytest.fixture(autouse=True)
def _no_leaked_sockets() -> Iterator[None]:
    """Collect after each test, so a socket left open by any path of `deliver` fails that
    test (warnings are errors) instead of a later one."""
    yield
    gc.collect()


RAW = build(
    Outgoing(
        message_id="send-1@acme.test",
        sender=Mailbox(USERNAME, "Acme Support"),
        to=[Mailbox("carla@example.com")],
        subject="Your order",
        text="It ships today.\n",
        html="<p>It ships today.</p>",
        date=datetime(2026, 11, 26, tzinfo=UTC),
    )
)


def account(smtp: SmtpFixture, security: str = "starttls", **changes: object) -> SmtpServer:
    fields: dict[str, object] = {
        "host": smtp.host, "port": smtp.port, "security": security, "username": USERNAME,
        "password": PASSWORD, "timeout_s": 5.0, "tls_context": smtp.client_tls,
    }  # fmt: skip
    fields.update(changes)
    return SmtpServer(**fields)  # type: ignore[arg-type]


async def test_starttls_and_auth_deliver_the_exact_bytes(smtp_server: SmtpFixture) -> None:
    result = await deliver(account(smtp_server), USERNAME, ["carla@example.com"], RAW)
    assert result.outcome == "sent", result
    [received] = smtp_server.sink.received
    assert received.sender == USERNAME and received.recipients == ["carla@example.com"]
    assert received.data == RAW


async def test_implicit_tls(smtps_server: SmtpFixture) -> None:
    result = await deliver(account(smtps_server, "tls"), USERNAME, ["carla@example.com"], RAW)
    assert result.outcome == "sent", result
    assert len(smtps_server.sink.received) == 1


async def test_refused_authentication_fails_with_the_servers_words(
    smtp_server: SmtpFixture,
) -> None:
    result = await deliver(
        account(smtp_server, password="wrong"), USERNAME, ["carla@example.com"], RAW
    )
    assert (result.outcome, result.code) == ("failed", 535)
    assert "authentication refused" in result.message
    assert smtp_server.sink.received == []


@pytest.mark.parametrize(
    ("reply", "outcome", "code"),
    [
        ("451 4.3.0 Mail server temporarily rejected message", "retry", 451),
        ("554 5.7.1 Message rejected as spam", "failed", 554),
    ],
)
async def test_a_data_refusal_is_transient_or_permanent_by_its_code(
    smtp_server: SmtpFixture, reply: str, outcome: str, code: int
) -> None:
    smtp_server.sink.data_reply = reply
    result = await deliver(account(smtp_server), USERNAME, ["carla@example.com"], RAW)
    assert (result.outcome, result.code) == (outcome, code)
    assert reply.split(" ", 1)[1] in result.message


async def test_refused_recipients(smtp_server: SmtpFixture) -> None:
    smtp_server.sink.refuse = {"gone@example.com": "550 5.1.1 No such user"}
    some = await deliver(
        account(smtp_server), USERNAME, ["carla@example.com", "gone@example.com"], RAW
    )
    assert some.outcome == "sent" and "550" in some.refused["gone@example.com"]
    none = await deliver(account(smtp_server), USERNAME, ["gone@example.com"], RAW)
    assert (none.outcome, none.code) == ("failed", 550)


async def test_a_silent_server_times_out_as_retry(smtp_server: SmtpFixture) -> None:
    smtp_server.sink.stall_s = 3.0
    result = await deliver(
        account(smtp_server, timeout_s=0.5), USERNAME, ["carla@example.com"], RAW
    )
    assert result.outcome == "retry" and "timed out" in result.message


async def test_a_closed_port_is_retry_and_an_untrusted_certificate_fails(
    smtp_server: SmtpFixture,
) -> None:
    closed = await deliver(account(smtp_server, port=1), USERNAME, ["carla@example.com"], RAW)
    assert closed.outcome == "retry"
    untrusted = await deliver(
        account(smtp_server, tls_context=None), USERNAME, ["carla@example.com"], RAW
    )
    assert untrusted.outcome == "failed" and "TLS" in untrusted.message
    assert smtp_server.sink.received == []


def test_plain_smtp_only_to_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SmtpServer("smtp.example.com", 25, "none")
    SmtpServer("127.0.0.1", 25, "none")
