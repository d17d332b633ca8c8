"""The gateway websocket: HELLO, heartbeat ACKs, IDENTIFY and RESUME, and event dispatch.

Every frame is sent as a text frame of plain JSON. discord.py 2.7 decompresses binary frames
only, so text frames work whichever ``compress`` the client asked for in the query string.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakediscord.state import APPLICATION_FLAGS, DiscordState

logger = logging.getLogger(__name__)

# Gateway opcodes and the close code for a bad token.
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
RESUME = 6
RECONNECT = 7
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11
AUTHENTICATION_FAILED = 4004


class GatewaySession:
    """One websocket connection. Frames go out in order through a queue."""

    def __init__(self, ws: web.WebSocketResponse, query: dict[str, str]) -> None:
        self.ws = ws
        self.query = query
        self.session_id: str | None = None
        self.sequence = 0
        self.identified = False
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def send(self, payload: dict[str, Any] | None) -> None:
        """Queue a frame; None ends the sender."""
        self._outbox.put_nowait(payload)

    def send_event(self, event: str, data: dict[str, Any]) -> None:
        """Queue a DISPATCH frame with the next sequence number."""
        self.sequence += 1
        self.send({"op": DISPATCH, "t": event, "s": self.sequence, "d": data})

    async def run_sender(self) -> None:
        """Write queued frames to the socket until None arrives or the socket closes."""
        while (payload := await self._outbox.get()) is not None:
            try:
                await self.ws.send_str(json.dumps(payload))
            except ConnectionResetError:
                return


class Gateway:
    """The gateway endpoint and the sessions of connected bots.

    ``identifies`` keeps every IDENTIFY payload without its token, and ``resumes`` counts
    successful RESUMEs.
    """

    def __init__(self, state: DiscordState, *, heartbeat_interval_ms: int) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.url = ""
        self.sessions: set[GatewaySession] = set()
        self.identifies: list[dict[str, Any]] = []
        self.resumes = 0
        self.identified = asyncio.Event()
        self._by_session_id: dict[str, GatewaySession] = {}

    @property
    def connected(self) -> bool:
        """Whether a bot has identified or resumed on an open connection."""
        return any(session.identified for session in self.sessions)

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send gateway event ``event`` to every identified session."""
        for session in self.sessions:
            if session.identified:
                session.send_event(event, data)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, after which discord.py reconnects and resumes."""
        for session in self.sessions:
            session.send({"op": RECONNECT, "d": None})

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one gateway connection until the client closes it."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = GatewaySession(ws, dict(request.query))
        self.sessions.add(session)
        sender = asyncio.create_task(session.run_sender())
        session.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._receive(session, json.loads(message.data))
                elif message.type is WSMsgType.ERROR:
                    logger.warning("gateway connection failed: %r", ws.exception())
        finally:
            self.sessions.discard(session)
            session.identified = False
            session.send(None)
            await sender
        return ws

    async def close(self) -> None:
        """Close every connection with code 1001, as when Discord restarts a gateway node."""
        for session in list(self.sessions):
            with contextlib.suppress(ConnectionResetError):
                await session.ws.close(code=1001)

    async def _receive(self, session: GatewaySession, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == HEARTBEAT:
            session.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(session, data or {})
        elif op == RESUME:
            self._resume(session, data or {})
        else:
            logger.debug("fake gateway ignores op %s", op)

    async def _identify(self, session: GatewaySession, data: dict[str, Any]) -> None:
        if data.get("token") != self.state.bot_token:
            logger.warning("gateway IDENTIFY with an unknown token; closing with 4004")
            await session.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        self.identifies.append({key: value for key, value in data.items() if key != "token"})
        session.session_id = secrets.token_hex(16)
        self._by_session_id[session.session_id] = session
        session.send_event("READY", self._ready_payload(session.session_id, data))
        for guild in self.state.guilds.values():
            session.send_event("GUILD_CREATE", {**guild.payload(), "unavailable": False})
        session.identified = True
        self.identified.set()

    def _resume(self, session: GatewaySession, data: dict[str, Any]) -> None:
        session_id = str(data.get("session_id"))
        previous = self._by_session_id.get(session_id)
        if previous is None or data.get("token") != self.state.bot_token:
            session.send({"op": INVALID_SESSION, "d": False})
            return
        session.session_id = session_id
        session.sequence = previous.sequence
        previous.identified = False
        self._by_session_id[session_id] = session
        session.identified = True
        self.resumes += 1
        session.send_event("RESUMED", {})

    def _ready_payload(self, session_id: str, identify: dict[str, Any]) -> dict[str, Any]:
        guilds = [{"id": str(guild_id), "unavailable": True} for guild_id in self.state.guilds]
        return {
            "v": 10,
            "user": self.state.bot_user_payload(),
            "guilds": guilds,
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "shard": identify.get("shard", [0, 1]),
            "application": {"id": str(self.state.application_id), "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
        }
