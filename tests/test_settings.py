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


def test_invalid_value_states_allowed_range(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[status]\ncoalesce_s = 11\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert "allowed: from 0 to 10, default 1.25" in str(caught.value)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_number_rejected(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "c.toml", f"[status]\nmax_staleness_s = {value}\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert "finite number" in str(caught.value)


def test_long_invalid_value_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGINE_STATUS__CHANNEL_REQUESTS", "9" * 5000)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert "IMAGINE_STATUS__CHANNEL_REQUESTS" in message
    assert len(message) < 500


def test_section_rule_blames_variable_not_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "c.toml", "[queue]\nmax_attempts = 3\n")
    monkeypatch.setenv("IMAGINE_DASHBOARD__ENABLED", "true")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "fix it in environment variable IMAGINE_DASHBOARD__ENABLED" in message
    assert str(path) not in message


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


def test_backend_password_hidden_in_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[[backends]]\nname = "a"\nurl = "http://127.0.0.1:99999"\npassword = "hunter2"\n'
        "[[backends]]\nname = 5\n",
    )

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "backends[0].url" in message
    assert "backends[1]" in message
    assert "hunter2" not in message


def test_environment_backends_password_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = '{"name": "a", "url": "embedded", "password": "hunter2"}'
    monkeypatch.setenv("IMAGINE_BACKENDS", f"[{backend}, {backend}]")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert "environment variable IMAGINE_BACKENDS" in message
    assert "'password': '<hidden>'" in message
    assert "hunter2" not in message


def test_nested_password_hidden_in_shown_list(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[[backends]]\nname = "a"\nurl = "embedded"\npassword = "hunter2"\n'
        '[[backends]]\nname = "a"\nurl = "embedded"\n',
    )

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "used twice" in message
    assert "'password': '<hidden>'" in message
    assert "hunter2" not in message


def test_token_reuse_value_not_hidden(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[discord]\ntoken_reuse_max_s = 0\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "invalid value 0 for 'discord.token_reuse_max_s'" in message
    assert "<hidden>" not in message


def test_discord_token_value_hidden(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[discord]\ntoken = 12345\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "invalid value <hidden> for 'discord.token'" in message
    assert "12345" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://127.0.0.1:99999", "port", id="port-too-large"),
        pytest.param("http://127.0.0.1:0", "port 0", id="port-zero"),
        pytest.param("http://127.0.0.1:abc", "port", id="port-not-number"),
        pytest.param("http://[::1:7860", "IPv6", id="ipv6-unclosed"),
        pytest.param("http://-gpu-:7860", "invalid host '-gpu-'", id="host-hyphen"),
        pytest.param("http://192.168.1.300:7860", "invalid host", id="ipv4-octet"),
        pytest.param("http://:7860", "invalid host ''", id="host-empty"),
    ],
)
def test_backend_url_address_rejected(tmp_path: Path, url: str, expected: str) -> None:
    path = write(tmp_path / "c.toml", f'[[backends]]\nname = "a"\nurl = "{url}"\n')

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "backends[0].url" in message
    assert expected in message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:65535",
        "http://[::1]:7860",
        "https://gpu.example",
        "http://stable_diffusion:7860/",
        "http://bücher.example:7860",
    ],
)
def test_backend_url_address_accepted(tmp_path: Path, url: str) -> None:
    path = write(tmp_path / "c.toml", f'[[backends]]\nname = "a"\nurl = "{url}"\n')

    assert load_settings(path).backends[0].url == url.rstrip("/")


def test_config_not_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b'[limits]\n# caf\xe9\ndefault_sampler = "Euler"\n')

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert f"{path}: line 2 is not UTF-8" in message
    assert "0xe9" in message


def test_config_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf[queue]\nmax_attempts = 4\n")

    assert load_settings(path).queue.max_attempts == 4


def test_config_directory_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)

    assert "cannot be read" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        pytest.param("IMAGINE_BACKENDS", "notjson", "<hidden>", id="backends"),
        pytest.param("IMAGINE_QUEUE", "notjson", "'notjson'", id="section"),
        pytest.param("IMAGINE_DISCORD__ADMIN_ROLE_IDS", "1,2", "'1,2'", id="list"),
    ],
)
def test_environment_invalid_json_names_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("IMAGINE_DISCORD__TOKEN", "not-json-but-fine")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert f"environment variable {name}: invalid value {expected}" in message
    assert "not valid JSON" in message
    assert "IMAGINE_DISCORD__TOKEN" not in message


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("IMAGINE_QUEU__MAX_ATTEMPTS", "IMAGINE_QUEUE__MAX_ATTEMPTS"),
        ("IMAGINE_QUEUE_MAX_ATTEMPTS", "IMAGINE_QUEUE__MAX_ATTEMPTS"),
        ("imagine_limits_count_max", "IMAGINE_LIMITS__COUNT_MAX"),
    ],
)
def test_unknown_environment_variable_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, suggestion: str
) -> None:
    monkeypatch.setenv(name, "5")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert f"environment variable {name}: unknown setting" in message
    assert f"rename it to {suggestion}" in message


def test_unknown_environment_variable_without_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGINE_HOME", "/srv")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert "environment variable IMAGINE_HOME: unknown setting" in message
    assert "IMAGINE_<SECTION>__<KEY>" in message


def test_known_environment_names_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGINE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("imagine_queue__max_attempts", "4")
    monkeypatch.setenv("IMAGINE_LIMITS", '{"count_max": 3}')

    settings = load_settings()

    assert settings.log_level == "DEBUG"
    assert settings.queue.max_attempts == 4
    assert settings.limits.count_max == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("[limits]\ndefault_width = 500\n", "default_width (500)", id="width"),
        pytest.param("[limits]\ndefault_height = 516\n", "default_height (516)", id="height"),
    ],
)
def test_default_size_not_multiple_of_8(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "c.toml", text)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert expected in message
    assert "multiple of 8" in message


def test_backoff_initial_above_max_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[queue]\nbackoff_initial_s = 120.0\nbackoff_max_s = 60.0\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "backoff_initial_s (120.0) is larger than backoff_max_s (60.0)" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("[limits]\ncount_max = true\n", "limits.count_max", id="int"),
        pytest.param("[queue]\ncooldown_s = false\n", "queue.cooldown_s", id="float"),
        pytest.param("[discord]\nsync_guild_id = true\n", "discord.sync_guild_id", id="optional"),
        pytest.param(
            "[discord]\nadmin_role_ids = [1, true]\n", "discord.admin_role_ids", id="list"
        ),
    ],
)
def test_boolean_for_number_rejected(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path / "c.toml", text)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert repr(key) in message
    assert "must be a number, not true or false" in message


def test_boolean_environment_value_for_number_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGINE_LIMITS", '{"count_max": true}')

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert "must be a number, not true or false" in str(caught.value)


@pytest.mark.parametrize("key", ['username = "alice"', 'password = "other-pass"'])
def test_backend_url_user_and_separate_credentials_rejected(tmp_path: Path, key: str) -> None:
    url = "http://alice:s3cret-pass@127.0.0.1:7860"
    path = write(tmp_path / "c.toml", f'[[backends]]\nname = "a"\nurl = "{url}"\n{key}\n')

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "backends[0]" in message
    assert "remove the user name and password from the url" in message
    assert "s3cret-pass" not in message
    assert "other-pass" not in message
