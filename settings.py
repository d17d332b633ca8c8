"""Configuration: one pydantic-settings model read from a TOML file and the environment.

Precedence, first wins: ``IMAGINE_*`` environment variables (nested keys joined with ``__``,
e.g. ``IMAGINE_QUEUE__MAX_ATTEMPTS=5``), then ``DISCORD_TOKEN``, then the TOML file. An
``IMAGINE_*`` variable that names no setting stops start-up, like an unknown key in the file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from config_errors import (
    ENV_PREFIX,
    ConfigError,
    check_environment_names,
    describe_settings_error,
    describe_validation_error,
)

DEFAULT_CONFIG_PATH = Path("config.toml")
EMBEDDED_URL = "embedded"
MAX_EMBEDDED_SPEED = 100_000.0

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")

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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _reject_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads true as 1, so count_max = true would pass as a number.
        annotation = cls.model_fields[str(info.field_name)].annotation
        items = value if isinstance(value, list) else [value]
        if _takes_numbers(annotation) and any(isinstance(item, bool) for item in items):
            raise ValueError("must be a number, not true or false")
        return value


def _takes_numbers(annotation: Any) -> bool:
    if annotation is int or annotation is float:
        return True
    return any(_takes_numbers(argument) for argument in get_args(annotation))


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
        if value == EMBEDDED_URL:
            return value
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError(
                f"must be an http:// or https:// URL such as http://127.0.0.1:7860, or "
                f"{EMBEDDED_URL!r} for the built-in stand-in"
            )
        _check_url_address(value)
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_one_kind_of_credentials(self) -> BackendSettings:
        # aiohttp refuses a request that has both a user in its URL and separate credentials.
        separate = self.username is not None or self.password is not None
        if separate and urlsplit(self.url).username is not None:
            raise ValueError(
                f"backend {self.name!r} has credentials both in its url and in username or "
                f"password; remove the user name and password from the url"
            )
        return self

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED_URL


def _check_url_address(url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(
            "has an invalid port or IPv6 address; give a port from 1 to 65535, and an IPv6 "
            "address in brackets as in http://[::1]:7860"
        ) from None
    if port == 0:
        raise ValueError("has port 0; give a port from 1 to 65535, such as 7860")
    if parts.hostname is None or not is_valid_host(parts.hostname):
        raise ValueError(
            f"has an invalid host {parts.hostname or ''!r}; give an IP address or a host name "
            f"such as 127.0.0.1 or gpu.example"
        )


def is_valid_host(host: str) -> bool:
    """Check that ``host`` is an IP address or a syntactically valid host name, without DNS."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    # An all-digit last label is a mistyped IPv4 address such as 192.168.1.300, not a name.
    if not ascii_host or len(ascii_host) > 253 or labels[-1].isdigit():
        return False
    return all(_HOST_LABEL.match(label) for label in labels)


class EmbeddedSettings(_Section):
    speed: float = Field(default=1.0, gt=0, le=MAX_EMBEDDED_SPEED)


class QueueSettings(_Section):
    policy: Literal["fifo", "fair"] = "fifo"
    max_queued_per_user: int = Field(default=5, ge=0, le=10_000)
    cooldown_s: float = Field(default=0.0, ge=0, le=86_400)
    max_attempts: int = Field(default=3, ge=1, le=100)
    backoff_initial_s: float = Field(default=1.0, gt=0, le=600)
    backoff_max_s: float = Field(default=60.0, gt=0, le=3600)
    shutdown_grace_s: float = Field(default=10.0, ge=0, le=600)

    @model_validator(mode="after")
    def _check_backoff(self) -> QueueSettings:
        if self.backoff_initial_s > self.backoff_max_s:
            raise ValueError(
                f"backoff_initial_s ({self.backoff_initial_s}) is larger than backoff_max_s "
                f"({self.backoff_max_s}); lower the first or raise the second"
            )
        return self


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
        for name in (
            "width_min",
            "width_max",
            "default_width",
            "height_min",
            "height_max",
            "default_height",
        ):
            if getattr(self, name) % 8:
                raise ValueError(f"{name} ({getattr(self, name)}) must be a multiple of 8")
        return self


class DashboardSettings(_Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    token: SecretStr | None = None

    @model_validator(mode="after")
    def _check_token(self) -> DashboardSettings:
        if self.enabled and (self.token is None or len(self.token.get_secret_value()) < 16):
            raise ValueError(
                "the dashboard is enabled without a token of at least 16 characters; set "
                "dashboard.token (or IMAGINE_DASHBOARD__TOKEN) to a long random string"
            )
        return self


class StatusSettings(_Section):
    exact_positions: int = Field(default=10, ge=0, le=100)
    max_staleness_s: float = Field(default=900.0, gt=0, le=86_400)
    progress_interval_s: float = Field(default=5.0, ge=1, le=600)
    preview_interval_s: float = Field(default=15.0, ge=1, le=3600)
    coalesce_s: float = Field(default=1.25, ge=0, le=10)
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
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    # Set only while load_settings() builds an instance. pydantic-settings calls
    # settings_customise_sources on the class, so the values read from the file travel on it.
    _file_values: ClassVar[dict[str, Any] | None] = None

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
        if cls._file_values is not None:
            sources.append(InitSettingsSource(settings_cls, init_kwargs=cls._file_values))
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
        ConfigError: the file is missing (when named explicitly), unreadable, not UTF-8, not valid
            TOML, an ``IMAGINE_*`` variable names no setting or is not valid JSON where JSON is
            expected, or a key is unknown or has an invalid value.
    """
    toml_path = DEFAULT_CONFIG_PATH if path is None else path
    file_values = _read_toml(toml_path, explicit=path is not None)
    check_environment_names(os.environ, Settings)
    Settings._file_values = file_values
    try:
        return Settings()
    except ValidationError as exc:
        shown_path = toml_path if file_values is not None else None
        raise ConfigError(
            describe_validation_error(exc, shown_path, Settings, file_values)
        ) from None
    except SettingsError as exc:
        raise ConfigError(describe_settings_error(exc, Settings)) from None
    finally:
        Settings._file_values = None


def _read_toml(path: Path, *, explicit: bool) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not explicit:
            return None
        raise ConfigError(
            f"config file {str(path)!r} not found; copy config.example.toml to it, "
            f"or leave out --config to run on defaults"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check the path") from None
    try:
        # Notepad and some other editors start UTF-8 files with a byte order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            f"save the file with UTF-8 encoding"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax at that line") from None
