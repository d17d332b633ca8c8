"""Run ``imagine-bot`` with discord.py pointed at a loopback fake of Discord.

Usage: ``python loopback_bot.py API_BASE GATEWAY_URL imagine-bot-arguments...``. Everything but
the two base URLs is the production command line, configured through the environment.
"""

from __future__ import annotations

import sys

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot import cli

if __name__ == "__main__":
    Route.BASE = sys.argv[1]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
    sys.exit(cli(sys.argv[3:]))
