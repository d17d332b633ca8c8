"""Members who type /imagine from a recorded trace into a FakeDiscord, and the replies they got."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from engine.trace import TraceRequest
from tests.fakediscord import (
    BotNotConnectedError,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeUser,
)

# The bot's first reply when it queued the job; any other reply is a rejection.
_QUEUED = re.compile(r"Queued — .*\(job (\d+)\)")


@dataclass
class SentRequest:
    """One /imagine a member typed, and the interaction as the fake recorded it.

    ``interaction`` is None when no bot was connected to the fake's gateway at that moment.
    """

    index: int
    request: TraceRequest
    interaction: FakeInteraction | None

    @property
    def answered(self) -> bool:
        """Whether the bot acknowledged the interaction within Discord's 3 seconds."""
        return self.interaction is not None and self.interaction.response_type is not None

    @property
    def job_id(self) -> int | None:
        """The job id that the bot's reply gave the member, or None if the reply queued nothing."""
        if not self.answered:
            return None
        assert self.interaction is not None
        match = _QUEUED.search(_first_reply(self))
        return int(match[1]) if match is not None else None


def _first_reply(sent: SentRequest) -> str:
    # The first callback's text, because the bot edits its reply as the job moves on.
    assert sent.interaction is not None and sent.interaction.callbacks
    data = sent.interaction.callbacks[0].get("data") or {}
    return str(data.get("content", ""))


class TraceReplay:
    """A replay of recorded requests typed as the trace's members in one channel, with every reply."""

    def __init__(self, fake: FakeDiscord, guild: FakeGuild, channel: FakeChannel) -> None:
        self.fake = fake
        self.guild = guild
        self.channel = channel
        self.sent: list[SentRequest] = []
        self._members: dict[str, FakeUser] = {}

    async def send(self, index: int, request: TraceRequest) -> SentRequest:
        """Type ``request`` as its member and wait for the acknowledgement (at most 3 s)."""
        member = self._member(request.user)
        try:
            interaction = await self.fake.slash(
                self.guild,
                self.channel,
                member,
                "imagine",
                prompt=request.prompt,
                **request.options,
            )
        except BotNotConnectedError:
            interaction = None
        sent = SentRequest(index, request, interaction)
        self.sent.append(sent)
        return sent

    def queued(self) -> dict[int, SentRequest]:
        """Map each job id that a reply gave to a member to the request that created it."""
        return {sent.job_id: sent for sent in self.sent if sent.job_id is not None}

    def rejection_reasons(self) -> dict[str, int]:
        """Count the replies that queued nothing, by their first 60 characters."""
        reasons: Counter[str] = Counter()
        for sent in self.sent:
            if sent.answered and sent.job_id is None:
                reasons[_first_reply(sent)[:60]] += 1
        return dict(reasons)

    def counts(self) -> dict[str, int]:
        """Count the requests typed, queued, rejected with a reason, and left unanswered."""
        queued = sum(sent.job_id is not None for sent in self.sent)
        answered = sum(sent.answered for sent in self.sent)
        return {
            "requests": len(self.sent),
            "queued": queued,
            "rejected": answered - queued,
            "unanswered": len(self.sent) - answered,
        }

    def _member(self, name: str) -> FakeUser:
        if name not in self._members:
            user = self._members[name] = self.fake.create_user(name)
            self.guild.add_member(user)
        return self._members[name]
