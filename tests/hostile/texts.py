"""Hypothesis strategies for hostile text: mentions, markdown, links, control and odd characters."""

from __future__ import annotations

from hypothesis import strategies as st

# Snowflakes of the length Discord uses, for mentions of a role and of a member who never asked.
ROLE_ID = 123456789012345678
VICTIM_ID = 876543210987654321
# The most characters a string option can carry, as discord-api-types lists Discord's limit.
OPTION_MAX_CHARS = 6000

FRAGMENTS = (
    "@everyone",
    "@here",
    f"<@&{ROLE_ID}>",
    f"<@{VICTIM_ID}>",
    f"<@!{VICTIM_ID}>",
    "@\u200beveryone",
    "**",
    "__",
    "*",
    "_",
    "~~",
    "||",
    "`",
    "```",
    "> ",
    ">>> ",
    "# ",
    "-# ",
    "- ",
    "\\",
    "[free nitro](https://evil.example/claim)",
    "[x](<https://evil.example>)",
    "https://evil.example/a_b*c",
    "<https://ok.example/>",
    "<t:0:R>",
    "<#1234567890123456789>",
    "</imagine:1>",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\r\n",
    "\n",
    "\t",
    "\u2028",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u202e",
    "\u2066",
    "\u061c",
    "مرحبا",
    "שלום",
    "狐狸",
    "😀",
    "👩\u200d👩\u200d👧",
    "e\u0301",
    "Z\u0337\u0322\u031ba\u0338l\u0335g\u0336o\u0334",
    "\U0001d54f",
    "\ufdfa",
    " ",
    "a red fox",
)

# Lone surrogates, which JSON can carry as escapes but UTF-8 cannot encode.
LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")


def _repeat_to(parts: list[str], length: int) -> str:
    unit = "".join(parts)
    return (unit * (length // len(unit) + 1))[:length]


def fragment_text(max_fragments: int = 20) -> st.SearchStrategy[str]:
    """Return texts glued from hostile fragments."""
    return st.lists(st.sampled_from(FRAGMENTS), max_size=max_fragments).map("".join)


def long_text(max_chars: int = OPTION_MAX_CHARS) -> st.SearchStrategy[str]:
    """Return texts of a few hundred to ``max_chars`` characters made of repeated fragments."""
    parts = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4)
    return st.builds(_repeat_to, parts, st.integers(300, max_chars))


def any_text(*, surrogates: bool = False) -> st.SearchStrategy[str]:
    """Return arbitrary text: fragments, random code points, long repeats and full-length texts.

    With ``surrogates`` the random code points include lone surrogates.
    """
    excluded: tuple[str, ...] = () if surrogates else ("Cs",)
    code_points = st.text(st.characters(exclude_categories=excluded), max_size=300)
    full_length = st.sampled_from(FRAGMENTS).map(lambda fragment: _repeat_to([fragment], 6000))
    return st.one_of(fragment_text(), code_points, long_text(), full_length)
