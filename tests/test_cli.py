"""The `tandem` command line, as a user runs it: subprocesses, --json, clear errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
        lines = [process.stdout.readline() for _ in range(4)]
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
