"""Settings: TOML plus environment, and the messages for bad configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [name for name in __import__("os").environ if name.startswith("IMAGINE_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_documented_defaults() -> None:
    settings = load_settings(ROOT / "config.example.toml")
    defaults = load_settings()

    assert settings.model_dump() == defaults.model_dump()


def test_example_config_documents_every_key() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    defaults = load_settings().model_dump()

    for section, values in defaults.items():
        if isinstance(values, dict):
            for key in values:
                assert f"{key} =" in text, f"{section}.{key} is not documented"
        elif section != "backends":
            assert f"{section} =" in text


def test_settings_default_to_embedded_backend() -> None:
    settings = load_settings()

    assert [backend.name for backend in settings.backends] == ["embedded"]
    assert settings.backends[0].embedded


def test_settings_backends_array_of_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[[backends]]\nname = "a"\nurl = "http://127.0.0.1:7860/"\n'
        '[[backends]]\nname = "b"\nurl = "https://gpu.example:7861"\nusername = "u"\npassword = "hunter2"\n',
    )

    settings = load_settings(path)

    assert [backend.url for backend in settings.backends] == [
        "http://127.0.0.1:7860",
        "https://gpu.example:7861",
    ]
    assert settings.backends[1].password is not None
    assert "hunter2" not in repr(settings.backends[1])


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "c.toml", "[queue]\nmax_attempts = 4\n")
    monkeypatch.setenv("IMAGINE_QUEUE__MAX_ATTEMPTS", "7")

    assert load_settings(path).queue.max_attempts == 7


def test_discord_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token-value")

    settings = load_settings()

    assert settings.discord.token is not None
    assert settings.discord.token.get_secret_value() == "secret-token-value"
    assert "secret-token-value" not in repr(settings)
    assert "secret-token-value" not in str(settings.model_dump())


def test_unknown_key_names_key_file_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[queue]\nmax_atempts = 3\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "queue.max_atempts" in message
    assert str(path) in message
    assert "remove it or fix its spelling" in message


def test_invalid_value_names_value_and_range(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[limits]\ncount_max = 50\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "limits.count_max" in message
    assert "50" in message
    assert "less than or equal to 10" in message


def test_invalid_environment_value_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGINE_QUEUE__MAX_ATTEMPTS", "zero")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert "IMAGINE_QUEUE__MAX_ATTEMPTS" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '[[backends]]\nname = "a"\nurl = "ftp://x"\n', "backends[0].url", id="bad-url"
        ),
        pytest.param(
            '[[backends]]\nname = "a"\nurl = "embedded"\n[[backends]]\nname = "a"\nurl = "embedded"\n',
            "used twice",
            id="duplicate-name",
        ),
        pytest.param("[limits]\nwidth_min = 300\n", "multiple of 8", id="width-not-multiple"),
        pytest.param(
            "[limits]\nsteps_min = 60\nsteps_max = 50\n", "steps_min", id="range-inverted"
        ),
        pytest.param("backends = []\n", "backends", id="no-backends"),
        pytest.param("[queue\n", "invalid TOML", id="syntax"),
    ],
)
def test_bad_config_rejected(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "c.toml", text)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert expected in str(caught.value)


def test_missing_explicit_config_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml")

    assert "not found" in str(caught.value)


def test_cli_bad_config_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[queue]\nmax_atempts = 3\n")

    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bot, sys; sys.exit(bot.cli())",
            "run",
            "--config",
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )

    assert completed.returncode == 2
    assert "queue.max_atempts" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_example_backend_tables_are_valid_when_uncommented(tmp_path: Path) -> None:
    lines = (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[backends]]")
    end = lines.index("", start)
    body = "\n".join(line[2:] for line in lines[start:end])
    path = write(tmp_path / "c.toml", body + "\n")

    settings = load_settings(path)

    assert [backend.name for backend in settings.backends] == ["gpu-1", "gpu-2"]
    assert settings.backends[0].password is not None
