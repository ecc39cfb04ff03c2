"""Settings: read once from the environment, validated, every one documented in README."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import Settings, SettingsError

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize(("env", "default", "help_text"), Settings.documented())
def test_every_setting_is_in_the_readme_with_its_default(
    env: str, default: object, help_text: str
) -> None:
    readme = README.read_text()
    shown = "(empty)" if default == "" else str(default)
    assert f"| `{env}` | `{shown}` |" in readme, f"{env} is not documented in README.md"
    assert help_text


def test_values_are_parsed_and_a_secret_key_is_generated_once(tmp_path: Path) -> None:
    env = {"TANDEM_DATA_DIR": str(tmp_path), "TANDEM_PORT": "9001", "TANDEM_COOKIE_SECURE": "yes"}
    first = Settings.from_env(env)
    assert (first.port, first.cookie_secure, first.data_dir) == (9001, True, tmp_path)
    assert len(first.secret_key) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert Settings.from_env(env).secret_key == first.secret_key


def test_a_bad_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TANDEM_PORT='eighty' is not a valid int"):
        Settings.from_env({"TANDEM_DATA_DIR": str(tmp_path), "TANDEM_PORT": "eighty"})


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = Settings.from_env({"TANDEM_DATA_DIR": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
