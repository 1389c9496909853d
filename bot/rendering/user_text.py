"""Text people wrote, made safe for the bot to post again and cut to fit a block.

Wins, community voice, the digest and the Home tab all repost what people wrote.
"""

from __future__ import annotations

import re

from bot.rendering import blocks as bk

READ_MORE = "read the whole message"

# Tokens Slack itself wrote into message text that are safe to keep: people (<@U…>),
# channels (<#C…>), and links. Anything else in angle brackets (<!channel>, <!subteam^…>)
# is shown as text instead.
_KEEP = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|https?://[^<>\s|]+|mailto:[^<>\s|]+)"
                   r"(?:\|[^<>]*)?>")


def repost_text(text: str) -> str:
    """Slack-formatted text made safe for the bot to post again."""
    out: list[str] = []
    position = 0
    for match in _KEEP.finditer(text):
        out.append(_plain(text[position:match.start()]))
        token = match.group(0)
        target, bar, label = token[1:-1].partition("|")
        out.append(f"<{target}|{_plain(label)}>" if bar else token)
        position = match.end()
    out.append(_plain(text[position:]))
    return "".join(out)


def _plain(text: str) -> str:
    # Slack sends &, < and > already escaped; decode them so they are escaped exactly once.
    decoded = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return bk.safe_user_text(decoded)


def fit(text: str, limit: int, permalink: str | None = None) -> str:
    """Cut safe text to `limit` characters with "…" and, when known, a link to the rest."""
    if len(text) <= limit:
        return text
    more = f" <{permalink}|{READ_MORE}>" if permalink else ""
    if len(more) + len(bk.ELLIPSIS) >= limit:
        more = ""  # no room for the link: the ellipsis alone says there was more
    head = _cut(text, max(0, limit - len(bk.ELLIPSIS) - len(more)))
    return head + bk.ELLIPSIS + more


def _cut(text: str, size: int) -> str:
    """The first `size` characters, never ending inside a <token> or an &entity;."""
    head = text[:size]
    if head.rfind("<") > head.rfind(">"):
        head = head[: head.rfind("<")]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head.rstrip()
