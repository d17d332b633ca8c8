"""Texts the bot shows in Discord, kept within Discord's length limits and free of pings."""

from __future__ import annotations

import re

import discord

from engine import GenerationParams, StatusKind, StatusView
from storage import Job, JobStatus

CONTENT_MAX_CHARS = 2000
EMBED_DESCRIPTION_MAX_CHARS = 4096
STATUS_PROMPT_MAX_CHARS = 300
RESULT_PROMPT_MAX_CHARS = 1000
ERROR_MAX_CHARS = 500
# Discord adds a preview embed for each link in a message unless it is wrapped in angle brackets.
_LINK = re.compile(r"<?https?://[^\s<>]*[^\s<>.,:;\"')\]]>?", re.IGNORECASE)


def shorten(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars`` characters, marking the cut with an ellipsis."""
    if len(text) <= max_chars:
        return text
    return text[: max_chars - 1].rstrip() + "…"


def quote_prompt(prompt: str, max_chars: int) -> str:
    """Show a prompt or other outside text inertly: no markdown, mentions or link previews.

    The result has at most ``max_chars`` characters. Escaping can double the length, so the
    text is cut further until its escaped form fits.
    """
    flat = " ".join(prompt.split())
    budget = min(max_chars, len(flat))
    while True:
        quoted = _inert(shorten(flat, budget))
        if len(quoted) <= max_chars or budget <= 1:
            return quoted[:max_chars]
        budget = max(1, budget - (len(quoted) - max_chars))


def _inert(text: str) -> str:
    unlinked = _LINK.sub(lambda match: f"<{match[0].strip('<>')}>", text)
    # escape_markdown leaves links in angle brackets as they are, so they stay clickable.
    return discord.utils.escape_mentions(discord.utils.escape_markdown(unlinked))


def tasks_ahead_text(ahead: int) -> str:
    if ahead == 0:
        return "0 tasks ahead of you, so yours is next"
    return f"{ahead} task{'s' if ahead != 1 else ''} ahead of you"


def relative_time(unix_s: float | None) -> str:
    """Return a Discord timestamp that each client shows as "in 5 minutes" and counts down."""
    return f"<t:{int(unix_s)}:R>" if unix_s is not None else "soon"


def queued_text(
    user_id: int, job_id: int, ahead: int, prompt: str, eta: float | None, note: str | None = None
) -> str:
    if note:
        headline = f"Queued — {tasks_ahead_text(ahead)}. {note}"
    else:
        headline = f"Queued — {tasks_ahead_text(ahead)}. Estimated start {relative_time(eta)}."
    return _status(user_id, f"{headline} (job {job_id})", prompt)


def progress_bar(step: int, steps: int, width: int = 10) -> str:
    filled = round(width * step / steps) if steps else 0
    filled = max(0, min(width, filled))
    return "▰" * filled + "▱" * (width - filled)


def running_text(job: Job, view: StatusView | None = None) -> str:
    headline = f"Generating now on {job.backend}."
    if view is not None and view.steps:
        headline = (
            f"Generating on {job.backend}: {progress_bar(view.step, view.steps)} "
            f"step {view.step}/{view.steps}, done {relative_time(view.eta)}."
        )
    return _status(job.user_id, f"{headline} (job {job.id})", _prompt(job))


def status_text(job: Job, view: StatusView) -> str:
    """Return the status message text for a job that is waiting or running."""
    if view.kind is StatusKind.RUNNING:
        return running_text(job, view)
    return queued_text(job.user_id, job.id, view.ahead, _prompt(job), view.eta, view.note)


NOTE_VIA_REPLY = (
    "The bot cannot post in this channel, so the image came as a reply to your command; "
    "an admin can give the bot Send Messages and Attach Files here."
)
NOTE_VIA_DM = (
    "The bot cannot post in this channel, so the image was sent to your DMs; "
    "an admin can give the bot Send Messages and Attach Files here."
)
NOTE_KEPT = (
    "The bot could neither post the image here nor DM you, so it is kept for you: "
    "press Where am I? or use /queue mine to get it."
)
DM_BLOCKED_HINT = (
    "I could not DM you last time. To get DMs, allow direct messages from server members "
    "(this server's Privacy Settings), then run /notify on."
)


def permission_warning(app_permissions: discord.Permissions) -> str | None:
    """Warn when the bot will not be able to post the image in the channel it was asked in."""
    missing = [
        name
        for name, allowed in (
            ("View Channel", app_permissions.view_channel),
            ("Send Messages", app_permissions.send_messages),
            ("Attach Files", app_permissions.attach_files),
            ("Embed Links", app_permissions.embed_links),
        )
        if not allowed
    ]
    if not missing:
        return None
    return (
        f"Heads-up: the bot lacks {', '.join(missing)} in this channel, so your image will come "
        "as a reply, by DM, or through Where am I? instead."
    )


def finished_text(job: Job, result_url: str | None, note: str | None = None) -> str:
    if job.status is JobStatus.SUCCEEDED:
        where = f" [Jump to the image]({result_url})" if result_url else ""
        extra = f" {note}" if note else ""
        headline = f"Done.{where}{extra} (job {job.id})"
    elif job.status is JobStatus.CANCELLED:
        headline = f"Cancelled. (job {job.id})"
    else:
        reason = quote_prompt(job.error or "unknown error", ERROR_MAX_CHARS)
        headline = f"Failed: {reason} (job {job.id})"
    return _status(job.user_id, headline, _prompt(job))


def result_content(job: Job) -> str:
    return f"<@{job.user_id}> your image is ready."


def result_embed(job: Job, params: GenerationParams, first_file: str | None) -> discord.Embed:
    embed = discord.Embed(description=quote_prompt(params.prompt, RESULT_PROMPT_MAX_CHARS))
    if params.kind == "upscale":
        embed.add_field(name="Upscaled", value=f"×{params.scale:g} with {params.upscaler}")
        embed.add_field(name="Size", value=f"{params.width}×{params.height}")
        embed.set_footer(text=f"job {job.id} · {job.backend}")
        if first_file is not None:
            embed.set_image(url=f"attachment://{first_file}")
        return embed
    seeds = [str(image.get("seed")) for image in (job.result or {}).get("images", [])]
    embed.add_field(name="Seed", value=shorten(", ".join(seeds) or str(params.seed), 1024))
    embed.add_field(name="Steps", value=str(params.steps))
    embed.add_field(name="Size", value=f"{params.width}×{params.height}")
    sampler = (job.result or {}).get("sampler") or params.sampler
    embed.add_field(name="Sampler", value=shorten(str(sampler), 1024))
    embed.add_field(name="CFG scale", value=f"{params.cfg_scale:g}")
    if params.negative_prompt:
        embed.add_field(name="Negative prompt", value=quote_prompt(params.negative_prompt, 1024))
    embed.set_footer(text=f"job {job.id} · {job.backend}")
    if first_file is not None:
        embed.set_image(url=f"attachment://{first_file}")
    return embed


def dm_link_text(job: Job, jump_url: str) -> str:
    """Return the DM that points an opted-in member to their posted image."""
    return f"Your image for job {job.id} is ready: {jump_url}"


def failed_delivery_text(job: Job) -> str:
    return _status(
        job.user_id,
        f"Your image is ready but could not be posted here (job {job.id}).",
        _prompt(job),
    )


def _prompt(job: Job) -> str:
    return str(job.params.get("prompt", ""))


def _status(user_id: int, headline: str, prompt: str) -> str:
    text = f"<@{user_id}> {headline}\n> {quote_prompt(prompt, STATUS_PROMPT_MAX_CHARS)}"
    return shorten(text, CONTENT_MAX_CHARS)
