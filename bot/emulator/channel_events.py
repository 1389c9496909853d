"""What Slack sends when a channel works for the bot again, and the state change behind it.

Each function changes the emulated channel as the person's action in Slack would, then
delivers the event Slack sends about it (to apps subscribed to it, which the bot is:
bot/runtime/manifest.py):

- `channel_unarchive` ("a channel was unarchived", scope `channels:read`:
  docs.slack.dev/reference/events/channel_unarchive) for public channels and
  `group_unarchive` (scope `groups:read`: docs.slack.dev/reference/events/group_unarchive)
  for private ones: `{"type", "channel", "user"}`.
- `member_joined_channel` (docs.slack.dev/reference/events/member_joined_channel): sent to
  the members of a channel when someone joins it, the bot included when it is invited back:
  `{"type", "user", "channel", "channel_type", "team", "inviter"}`.
"""

from __future__ import annotations

from bot.emulator.driver import Reply, SlackDriver


def unarchive(driver: SlackDriver, channel: str, *, by: str) -> Reply:
    """`by` unarchives `channel`."""
    driver.emu.set_channel(channel, archived=False)
    private = driver.emu.channels[channel].is_private
    return driver.event({"type": "group_unarchive" if private else "channel_unarchive",
                         "channel": channel, "user": by})


def invite_bot(driver: SlackDriver, channel: str, *, by: str) -> Reply:
    """`by` invites the bot back into `channel`."""
    driver.emu.set_channel(channel, bot_member=True)
    private = driver.emu.channels[channel].is_private
    return driver.event({"type": "member_joined_channel", "user": driver.emu.bot_user_id,
                         "channel": channel, "channel_type": "G" if private else "C",
                         "team": driver.team_id, "inviter": by})
