"""The `tandem` command line, as a user runs it: subprocesses, --json, clear errors."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.credentials import hash_secret
from server.passwords import verify_password
from server.settings import Settings
from server.storage import open_storage
from server.storage.base import User
from server.storage.migrations import latest_version, migrations_for
from tests.fixtures.cli import run_main
from tests.fixtures.procs import ROOT, free_port


def tandem(data_dir: Path, *args: str, database_url: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TANDEM_DATA_DIR": str(data_dir), "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_org_user_and_token_with_json_output(tmp_path: Path) -> None:
    org = json.loads(tandem(tmp_path, "org", "create", "Acme", "--json").stdout)
    assert org["name"] == "Acme"
    user = json.loads(
        tandem(
            tmp_path, "user", "create", "Alice@Acme.com", "--org", "Acme", "--role", "owner",
            "--json",
        ).stdout
    )  # fmt: skip
    assert (user["email"], user["role"]) == ("alice@acme.com", "owner")
    assert len(user["password"]) >= 12  # generated, shown once
    token = json.loads(tandem(tmp_path, "token", "create", "alice@acme.com", "--json").stdout)
    assert token["token"].startswith("tdm_")
    listed = json.loads(tandem(tmp_path, "org", "list", "--json").stdout)
    assert [o["name"] for o in listed["organizations"]] == ["Acme"]


def test_errors_name_the_problem_and_exit_1(tmp_path: Path) -> None:
    tandem(tmp_path, "org", "create", "Acme")
    tandem(tmp_path, "user", "create", "a@acme.com", "--org", "Acme", "--password", "longenough")
    duplicate = tandem(tmp_path, "user", "create", "A@acme.com", "--org", "Acme")
    assert duplicate.returncode == 1
    assert "a@acme.com exists" in duplicate.stderr
    missing = tandem(tmp_path, "user", "create", "b@acme.com", "--org", "Nope")
    assert missing.returncode == 1 and "no organization named 'Nope'" in missing.stderr
    short = tandem(tmp_path, "user", "set-password", "a@acme.com", "--password", "short")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    bad = tandem(tmp_path, "token", "create", "ghost@acme.com")
    assert bad.returncode == 1 and "no user with email" in bad.stderr


def test_migrate_on_postgres(postgres_database_url: str, tmp_path: Path) -> None:
    result = tandem(tmp_path, "migrate", "--json", database_url=postgres_database_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["applied"] == []  # the fixture migrated it already
    org = tandem(tmp_path, "org", "create", "PG Org", "--json", database_url=postgres_database_url)
    assert org.returncode == 0, org.stderr


def test_serve_on_a_fresh_data_dir_prints_how_to_sign_in(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TANDEM_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any("Sign in at" in line for line in lines) and len(lines) < 50:
            lines.append(process.stdout.readline())
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in output
        match = re.search(r"Sign in as (\S+) with password (\S+)", output)
        assert match, output
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("server did not answer /healthz")
                time.sleep(0.05)
        signed_in = httpx.post(
            f"http://127.0.0.1:{port}/api/session",
            json={"email": match[1], "password": match[2]},
        )
        assert signed_in.status_code == 200
        assert signed_in.json()["organizations"][0]["role"] == "owner"
        assert "<form" in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_passwords_memberships_and_tokens_reach_the_database(
    in_process: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(capsys, "org", "create", "Acme")[0] == 0
    assert run_main(capsys, "org", "create", "Beta")[0] == 0
    run_main(capsys, "user", "create", "bo@acme.com", "--org", "Acme", "--password", "first-pass")
    status, out, _ = run_main(capsys, "user", "set-password", "BO@acme.com", "--json")
    assert status == 0
    new_password = json.loads(out)["password"]
    status, out, _ = run_main(capsys, "user", "add-to-org", "bo@acme.com", "--org", "Beta",
                              "--role", "admin", "--json")  # fmt: skip
    assert (status, json.loads(out)["role"]) == (0, "admin")
    token = json.loads(run_main(capsys, "token", "create", "bo@acme.com", "--json")[1])["token"]

    async def stored() -> tuple[User | None, User | None, list[tuple[str, str]]]:
        storage = await open_storage(Settings(data_dir=in_process, secret_key="x"))
        try:
            user = await storage.get_user_by_email("bo@acme.com")
            assert user is not None
            roles = []
            for membership in await storage.memberships_for_user(user.id):
                org = await storage.get_organization(membership.org_id)
                roles.append((org.name if org else "?", membership.role))
            return user, await storage.user_for_token_hash(hash_secret(token)), roles
        finally:
            await storage.close()

    user, token_user, roles = asyncio.run(stored())
    assert user is not None and token_user is not None and token_user.id == user.id
    assert verify_password(user.password_hash, new_password)
    assert not verify_password(user.password_hash, "first-pass")
    assert sorted(roles) == [("Acme", "member"), ("Beta", "admin")]


def test_friendly_text_without_json(in_process: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(capsys, "migrate")
    assert status == 0
    version = latest_version("sqlite")
    assert out == f"applied {[m.version for m in migrations_for('sqlite')]} (v{version})\n"
    assert run_main(capsys, "org", "create", "Acme")[1] == "created organization Acme\n"
    status, out, _ = run_main(capsys, "user", "create", "x@acme.com", "--org", "Acme")
    assert status == 0
    assert re.fullmatch(r"created x@acme\.com \(member of Acme\)\npassword: \S{12,}\n", out)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("user", "create", "not-an-email", "--org", "Acme"), "is not an email address"),
        (("user", "add-to-org", "ghost@acme.com", "--org", "Acme"), "no user with email"),
        (("org", "create", "Acme"), "an organization named 'Acme' exists"),
    ],
)
def test_bad_requests_exit_1_with_the_reason_on_stderr(
    in_process: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], says: str
) -> None:
    run_main(capsys, "org", "create", "Acme")
    status, out, err = run_main(capsys, *args, "--json")
    assert (status, out) == (1, "")
    assert err.startswith("tandem: ") and says in err


def test_an_unreachable_database_is_named_not_a_traceback(
    in_process: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://tandem@127.0.0.1:{free_port()}/tandem")
    status, _, err = run_main(capsys, "org", "list")
    assert status == 1
    assert "cannot open PostgreSQL at DATABASE_URL" in err
    assert "Traceback" not in err


def test_a_postgres_database_that_does_not_exist_is_named(
    in_process: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/tandem_no_such_database"
    monkeypatch.setenv("DATABASE_URL", missing)
    status, _, err = run_main(capsys, "org", "list")
    assert status == 1
    assert "cannot open PostgreSQL at DATABASE_URL" in err and "does not exist" in err
    assert "Traceback" not in err
