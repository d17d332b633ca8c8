"""Entry point: the ``imagine-bot`` command, the bot class, and the process's shared resources."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import logging.config
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from engine import Backend, ImageStore, PacingLimits, QueueService, StatusPolicy
from fakewebui import FakeWebUI
from sdclient import SDClient
from settings import DEFAULT_SAMPLERS, ConfigError, Settings, is_valid_host, load_settings
from storage import JobStore, StorageError

if TYPE_CHECKING:
    from cogs.delivery import DiscordDelivery

_log = logging.getLogger("bot")

EXTENSIONS = ("cogs.admin", "cogs.imagine", "cogs.jobs", "cogs.queue")
EXIT_CONFIG_ERROR = 2
DESCRIPTION = "A Discord bot that puts a Stable Diffusion WebUI behind a fair, persistent queue."


class ImagineBot(commands.Bot):
    """The Discord client; it owns no resources, ``main`` hands them in."""

    def __init__(self, *, settings: Settings, service: QueueService) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=60.0,
        )
        self.settings = settings
        self.service = service
        self.delivery: DiscordDelivery | None = None

    async def setup_hook(self) -> None:
        from cogs.delivery import DiscordDelivery
        from cogs.results import ResultButton
        from cogs.views import StatusButton

        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(StatusButton, ResultButton)
        self.delivery = DiscordDelivery(self, self.service)
        self.service.attach(self.delivery, self.delivery)
        self.tree.error(self._on_app_command_error)

    async def _on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        from cogs.errors import reply_to_error

        await reply_to_error(interaction, error)


def create_bot(settings: Settings, service: QueueService) -> ImagineBot:
    """Build the bot exactly as ``imagine-bot run`` does; tests and the demo use this too."""
    return ImagineBot(settings=settings, service=service)


@asynccontextmanager
async def open_service(
    settings: Settings, session: aiohttp.ClientSession
) -> AsyncIterator[QueueService]:
    """Open the job store and the backends' clients; start embedded stand-ins where configured."""
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        store = await JobStore.open(
            settings.storage.database_path,
            busy_timeout_ms=settings.storage.busy_timeout_ms,
            max_attempts=settings.queue.max_attempts,
            policy=settings.queue.policy,
        )
        stack.push_async_callback(store.close)
        backends = []
        for backend in settings.backends:
            url = backend.url
            if backend.embedded:
                stand_in = FakeWebUI(speed=settings.embedded.speed)
                await stand_in.start()
                stack.push_async_callback(stand_in.stop)
                url = stand_in.url
                _log.warning(
                    "backend %s is the built-in stand-in at %s: it draws placeholder images, "
                    "not Stable Diffusion; set [[backends]] url to your WebUI",
                    backend.name,
                    url,
                )
            auth = None
            if backend.username is not None:
                password = backend.password.get_secret_value() if backend.password else ""
                auth = (backend.username, password)
            client = SDClient(
                session,
                url,
                auth=auth,
                connect_timeout_s=backend.connect_timeout_s,
                request_timeout_s=backend.request_timeout_s,
                max_generation_s=backend.max_generation_s,
            )
            backends.append(Backend(backend.name, client))
        status = settings.status
        yield QueueService(
            store,
            backends,
            ImageStore(settings.storage.images_dir),
            default_samplers=DEFAULT_SAMPLERS,
            backoff_initial_s=settings.queue.backoff_initial_s,
            backoff_max_s=settings.queue.backoff_max_s,
            max_queued_per_user=settings.queue.max_queued_per_user or None,
            cooldown_s=settings.queue.cooldown_s,
            pacing=PacingLimits(
                channel_requests=status.channel_requests,
                channel_window_s=status.channel_window_s,
                token_requests=status.token_requests,
                token_window_s=status.token_window_s,
                global_requests_per_s=status.global_requests_per_s,
            ),
            status_policy=StatusPolicy(
                exact_positions=status.exact_positions,
                max_staleness_s=status.max_staleness_s,
                progress_interval_s=status.progress_interval_s,
                preview_interval_s=status.preview_interval_s,
                coalesce_s=status.coalesce_s,
                token_reuse_max_s=settings.discord.token_reuse_max_s,
            ),
        )


async def run_bot(settings: Settings, token: str) -> None:
    """Run the real bot until SIGINT or SIGTERM, then stop without losing a job."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with aiohttp.ClientSession() as session, open_service(settings, session) as service:
        bot = create_bot(settings, service)
        async with bot:
            # login() runs setup_hook, which connects the queue's events to Discord, so the
            # workers start only after it: a job finished earlier must have somewhere to go.
            await bot.login(token)
            await service.start()
            dashboard = await start_dashboard(settings, service)
            client_task = asyncio.create_task(bot.connect())
            stop_task = asyncio.create_task(stop.wait())
            await asyncio.wait({client_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            _log.info("stopping: the running job goes back to the queue")
            await service.stop(settings.queue.shutdown_grace_s)
            if dashboard is not None:
                await dashboard.stop()
            await bot.close()
            stop_task.cancel()
            if client_task.done() and not client_task.cancelled():
                client_task.result()


async def start_dashboard(settings: Settings, service: QueueService) -> Any:
    """Serve the dashboard when it is enabled; return its server, or None."""
    if not settings.dashboard.enabled:
        return None
    from dashboard import DashboardServer

    assert settings.dashboard.token is not None
    server = DashboardServer(
        service,
        token=settings.dashboard.token.get_secret_value(),
        host=settings.dashboard.host,
        port=settings.dashboard.port,
    )
    await server.start()
    _log.info("dashboard at %s (it needs the dashboard token)", server.url)
    return server


async def sync_commands(settings: Settings, token: str, guild_id: int | None) -> list[str]:
    """Upload the slash commands to Discord, to one guild (instant) or globally."""
    async with aiohttp.ClientSession() as session, open_service(settings, session) as service:
        bot = create_bot(settings, service)
        async with bot:
            await bot.login(token)
            guild = discord.Object(guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
    return [command.name for command in synced]


def configure_logging(level: str) -> None:
    """Send log lines to stderr; only this entry point configures logging."""
    root_level = logging.getLevelNamesMapping()[level]
    # A logger's own level decides alone whether its records reach the root's handlers, so the
    # quieter loggers get the root's level whenever that one is higher.
    quiet_levels = {
        "discord.http": logging.WARNING,
        "aiohttp.access": logging.WARNING,
        # aiosqlite logs every statement with its parameters at DEBUG, and those include the
        # interaction tokens that the job store keeps.
        "aiosqlite": logging.INFO,
        # At DEBUG these log gateway payloads and webhook URLs, which carry interaction tokens.
        "discord.gateway": logging.INFO,
        "discord.webhook": logging.INFO,
    }
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "plain": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}
            },
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
            "root": {"level": root_level, "handlers": ["stderr"]},
            "loggers": {
                name: {"level": max(quiet_level, root_level)}
                for name, quiet_level in quiet_levels.items()
            },
        }
    )


def _parser() -> argparse.ArgumentParser:
    from cli_args import add_demo_arguments, port_number, positive_number

    parser = argparse.ArgumentParser(prog="imagine-bot", description=DESCRIPTION)
    commands_ = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("run", "run the bot (offline demo when no Discord token is configured)"),
        ("sync", "upload the slash commands to Discord"),
        ("demo", "run the bot against an offline Discord and replay real requests"),
        ("check", "check the config, the Discord token's format and every backend"),
    ):
        sub = commands_.add_parser(name, help=help_text)
        sub.add_argument(
            "--config", type=Path, default=None, help="TOML file (default: config.toml)"
        )
        if name == "sync":
            sub.add_argument("--guild", type=int, default=None, help="guild id for an instant sync")
        if name == "demo":
            add_demo_arguments(sub)
    fake = commands_.add_parser("fake-webui", help="serve the AUTOMATIC1111 API stand-in")
    fake.add_argument(
        "--host", type=_host, default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    fake.add_argument(
        "--port", type=port_number, default=7860, help="TCP port, 0 for any free (default 7860)"
    )
    fake.add_argument(
        "--speed", type=positive_number, default=1.0, help="divide generation time by this"
    )
    fake.add_argument(
        "--model",
        action="append",
        metavar="FILE",
        help="model file to list, such as SDXL/juggernaut.safetensors; repeat for more",
    )
    return parser


def _host(text: str) -> str:
    if not is_valid_host(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IP address or host name; give one such as 127.0.0.1"
        )
    return text


def cli(argv: Sequence[str] | None = None) -> int:
    """Run the ``imagine-bot`` command line and return its exit code."""
    args = _parser().parse_args(argv)
    if args.command == "fake-webui":
        return _serve_fake_webui(args.host, args.port, args.speed, args.model)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"imagine-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    configure_logging(settings.log_level)
    try:
        return _dispatch(args, settings)
    except StorageError as exc:
        print(f"imagine-bot: {exc}", file=sys.stderr)
        return 1
    except discord.LoginFailure:
        print(
            "imagine-bot: Discord rejected the token; copy it again from the Developer "
            "Portal (Bot page, Reset Token)",
            file=sys.stderr,
        )
        return EXIT_CONFIG_ERROR
    except KeyboardInterrupt:
        return 130


def _serve_fake_webui(host: str, port: int, speed: float, models: list[str] | None) -> int:
    from fakewebui import InvalidModelListError, serve

    configure_logging("INFO")
    try:
        serve(host, port, speed, models)
    except InvalidModelListError as exc:
        print(f"imagine-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except OSError as exc:
        print(f"imagine-bot: {_describe_listen_error(exc, host, port)}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    return 0


def _describe_listen_error(exc: OSError, host: str, port: int) -> str:
    if isinstance(exc, socket.gaierror):
        return (
            f"--host {host!r} cannot be resolved ({exc.strerror}); give an IP address such as "
            f"127.0.0.1 or a host name this machine resolves"
        )
    if exc.errno == errno.EADDRINUSE:
        fix = "stop the program that uses it or pick another --port"
    elif exc.errno == errno.EADDRNOTAVAIL:
        fix = "give an address of this machine with --host, such as 127.0.0.1"
    elif exc.errno == errno.EACCES:
        fix = "pick a --port above 1023 or run with the right to bind low ports"
    else:
        fix = "check --host and --port"
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"cannot listen on {host} port {port} ({reason}); {fix}"


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "check":
        from checks import run_checks

        return run_checks(settings, config_path=args.config)
    token = settings.discord.token.get_secret_value() if settings.discord.token else None
    if args.command == "demo" or (args.command == "run" and token is None):
        from demo import run_demo_command

        if args.command == "run":
            _log.info("no Discord token configured (DISCORD_TOKEN): running the offline demo")
            args = _parser().parse_args(
                ["demo"] + (["--config", str(args.config)] if args.config else [])
            )
        return run_demo_command(args, settings)
    if token is None:
        print(
            "imagine-bot: no Discord token: set DISCORD_TOKEN or [discord] token in the config",
            file=sys.stderr,
        )
        return EXIT_CONFIG_ERROR
    try:
        if args.command == "sync":
            names = asyncio.run(
                sync_commands(settings, token, args.guild or settings.discord.sync_guild_id)
            )
            print(f"synced {len(names)} commands: {', '.join(names)}")
        else:
            asyncio.run(run_bot(settings, token))
    except aiohttp.ClientError as exc:
        # The workers catch their backends' errors, so one that gets here is the Discord client's.
        print(f"imagine-bot: cannot reach Discord ({exc}); check the network", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
