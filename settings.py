"""Configuration: one pydantic-settings model read from a TOML file and the environment.

Precedence, first wins: ``IMAGINE_*`` environment variables (nested keys joined with ``__``,
e.g. ``IMAGINE_QUEUE__MAX_ATTEMPTS=5``), then ``DISCORD_TOKEN``, then the TOML file.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_PATH = Path("config.toml")
ENV_PREFIX = "IMAGINE_"
EMBEDDED_URL = "embedded"

# The samplers of AUTOMATIC1111 1.10, used until a backend has sent its own list.
DEFAULT_SAMPLERS = (
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 2M SDE Heun",
    "DPM++ 2S a",
    "DPM++ 3M SDE",
    "Euler a",
    "Euler",
    "LMS",
    "Heun",
    "DPM2",
    "DPM2 a",
    "DPM fast",
    "DPM adaptive",
    "Restart",
    "DDIM",
    "DDIM CFG++",
    "PLMS",
    "UniPC",
    "LCM",
)


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key, the source and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiscordSettings(_Section):
    token: SecretStr | None = None
    sync_guild_id: int | None = Field(default=None, gt=0)
    admin_role_ids: list[int] = Field(default_factory=list)
    admin_user_ids: list[int] = Field(default_factory=list)
    token_reuse_max_s: float = Field(default=840.0, gt=0, le=900)


class BackendSettings(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    url: str
    username: str | None = None
    password: SecretStr | None = None
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    request_timeout_s: float = Field(default=10.0, gt=0, le=300)
    max_generation_s: float = Field(default=900.0, gt=0, le=7200)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value == EMBEDDED_URL or re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            return value.rstrip("/")
        raise ValueError(
            f"must be an http:// or https:// URL such as http://127.0.0.1:7860, or "
            f"{EMBEDDED_URL!r} for the built-in stand-in"
        )

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED_URL


class EmbeddedSettings(_Section):
    speed: float = Field(default=1.0, gt=0, le=100_000)


class QueueSettings(_Section):
    policy: Literal["fifo", "fair"] = "fifo"
    max_queued_per_user: int = Field(default=5, ge=0, le=10_000)
    cooldown_s: float = Field(default=0.0, ge=0, le=86_400)
    max_attempts: int = Field(default=3, ge=1, le=100)
    backoff_initial_s: float = Field(default=1.0, gt=0, le=600)
    backoff_max_s: float = Field(default=60.0, gt=0, le=3600)
    shutdown_grace_s: float = Field(default=10.0, ge=0, le=600)


class LimitsSettings(_Section):
    prompt_max_chars: int = Field(default=1500, ge=1, le=6000)
    negative_prompt_max_chars: int = Field(default=1000, ge=1, le=6000)
    width_min: int = Field(default=256, ge=64, le=4096)
    width_max: int = Field(default=1024, ge=64, le=4096)
    height_min: int = Field(default=256, ge=64, le=4096)
    height_max: int = Field(default=1024, ge=64, le=4096)
    default_width: int = Field(default=512, ge=64, le=4096)
    default_height: int = Field(default=512, ge=64, le=4096)
    steps_min: int = Field(default=1, ge=1, le=500)
    steps_max: int = Field(default=150, ge=1, le=500)
    default_steps: int = Field(default=20, ge=1, le=500)
    cfg_scale_min: float = Field(default=1.0, ge=0, le=100)
    cfg_scale_max: float = Field(default=30.0, ge=0, le=100)
    default_cfg_scale: float = Field(default=7.0, ge=0, le=100)
    count_max: int = Field(default=9, ge=1, le=10)
    default_sampler: str = "Euler a"

    @model_validator(mode="after")
    def _check_ranges(self) -> LimitsSettings:
        for name in ("width", "height", "steps", "cfg_scale"):
            low, high = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            default = getattr(self, f"default_{name}")
            if low > high:
                raise ValueError(f"{name}_min ({low}) is larger than {name}_max ({high})")
            if not low <= default <= high:
                raise ValueError(
                    f"default_{name} ({default}) is outside {name}_min..{name}_max ({low}..{high})"
                )
        for name in ("width_min", "width_max", "height_min", "height_max"):
            if getattr(self, name) % 8:
                raise ValueError(f"{name} ({getattr(self, name)}) must be a multiple of 8")
        return self


class StatusSettings(_Section):
    exact_positions: int = Field(default=10, ge=0, le=100)
    max_staleness_s: float = Field(default=300.0, gt=0, le=86_400)
    progress_interval_s: float = Field(default=5.0, ge=1, le=600)
    preview_interval_s: float = Field(default=15.0, ge=1, le=3600)
    channel_requests: int = Field(default=4, ge=1, le=50)
    channel_window_s: float = Field(default=5.0, gt=0, le=600)
    token_requests: int = Field(default=4, ge=1, le=50)
    token_window_s: float = Field(default=2.0, gt=0, le=600)
    global_requests_per_s: int = Field(default=40, ge=1, le=50)


class StorageSettings(_Section):
    data_dir: Path = Path("data")
    database: Path | None = None
    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)

    @property
    def database_path(self) -> Path:
        return self.database if self.database is not None else self.data_dir / "imagine.db"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"


def _default_backends() -> list[BackendSettings]:
    return [BackendSettings(name="embedded", url=EMBEDDED_URL)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    backends: list[BackendSettings] = Field(default_factory=_default_backends, min_length=1)
    embedded: EmbeddedSettings = Field(default_factory=EmbeddedSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    status: StatusSettings = Field(default_factory=StatusSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    # Set only while load_settings() builds an instance; pydantic-settings asks the class for its
    # sources, so the file path has to travel on the class.
    _toml_path: ClassVar[Path | None] = None

    @field_validator("backends")
    @classmethod
    def _check_unique_names(cls, backends: list[BackendSettings]) -> list[BackendSettings]:
        names = [backend.name for backend in backends]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"backend name {name!r} is used twice; give each backend its own")
        return backends

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            _DiscordTokenSource(settings_cls),
        ]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)


class _DiscordTokenSource(PydanticBaseSettingsSource):
    """Read the bot token from ``DISCORD_TOKEN``, the name most hosting guides use."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        token = os.environ.get("DISCORD_TOKEN")
        return {"discord": {"token": token}} if token else {}


def load_settings(path: Path | None = None) -> Settings:
    """Load settings from ``path`` (default ``config.toml``, optional) and the environment.

    Raises:
        ConfigError: the file is missing (when named explicitly), unreadable, not valid TOML, or a
            key is unknown or has an invalid value.
    """
    explicit = path is not None
    path = DEFAULT_CONFIG_PATH if path is None else path
    if not path.exists():
        if explicit:
            raise ConfigError(
                f"config file {str(path)!r} not found; copy config.example.toml to it, "
                f"or leave out --config to run on defaults"
            )
        toml_path = None
    else:
        toml_path = path
        _check_toml_syntax(path)
    Settings._toml_path = toml_path
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, toml_path)) from None
    finally:
        Settings._toml_path = None


def _check_toml_syntax(path: Path) -> None:
    try:
        with path.open("rb") as file:
            tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax at that line") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check the path") from None


def _describe_validation_error(exc: ValidationError, toml_path: Path | None) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        location = [str(part) for part in error["loc"]]
        key = _dotted_key(location)
        source = _source_of(location, toml_path)
        if error["type"] == "extra_forbidden":
            lines.append(
                f"{source}: unknown key {key!r}; remove it or fix its spelling "
                f"(config.example.toml lists every key)"
            )
            continue
        value = error.get("input")
        shown = "<hidden>" if "token" in key or "password" in key else repr(value)
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: invalid value {shown} for {key!r}: {message}; fix it in {source}")
    return "\n".join(lines)


def _dotted_key(location: list[str]) -> str:
    parts: list[str] = []
    for part in location:
        if part.isdigit() and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(part)
    return ".".join(parts) or "(top level)"


def _source_of(location: list[str], toml_path: Path | None) -> str:
    names = [part for part in location if not part.isdigit()]
    for depth in range(len(names), 0, -1):
        env_name = ENV_PREFIX + "__".join(names[:depth]).upper()
        if env_name in os.environ:
            return f"environment variable {env_name}"
    if names[:2] == ["discord", "token"] and "DISCORD_TOKEN" in os.environ:
        return "environment variable DISCORD_TOKEN"
    return str(toml_path) if toml_path is not None else "the environment"
