"""Shared test set-up. Async tests run on asyncio through anyio's plugin (auto mode).

Service URLs come from the environment (TEST_DATABASE_URL, TEST_REDIS_URL) and default to
the services on 127.0.0.1. Under CI=true a missing service fails the run instead of
skipping the tests that need it.
"""

from __future__ import annotations

import os

import pytest

from server.actions.directory import VERIFY_ENV

# every cached organization directory the tests are served is checked against storage:
# a write that does not bump the directory version fails the test that makes it
os.environ.setdefault(VERIFY_ENV, "1")

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.storage",
    "tests.fixtures.app",
    "tests.fixtures.server",
    "tests.fixtures.cli",
    "tests.fixtures.smtp",
    "tests.fixtures.node",
    "tests.fixtures.browser",
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
