"""One console session: who you are and where, and what each typed line does.

Every line becomes what Slack would send (a signed slash command, an event, an interaction)
through the sandbox's driver; what the bot sent back is printed by `transcript.py`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.console import commands as cc
from bot.console.transcript import BOT, Target, Transcript
from bot.emulator.driver import Reply
from bot.rendering import dates
from bot.runtime.caller import identify
from bot.runtime.errors import UserError
from bot.runtime.manifest import SHORTCUT_CALLBACK
from bot.runtime.scheduler import TICK_MINUTES, run_due_now

log = logging.getLogger(__name__)

__all__ = ["BOT", "Console", "Target"]

MAX_TICKS = 300  # an :advance runs at most this many scheduler ticks


class Console(Transcript):
    """A person at the terminal: acts as `user` in `channel`, prints what the bot sends."""

    # ------------------------------------------------------------------ one line
    def handle(self, text: str) -> bool:
        """Act on one typed line; False means quit."""
        try:
            line = cc.parse_line(text)
            if line.kind == "command":
                if line.name == "quit":
                    return False
                getattr(self, f"cmd_{line.name}")(line.args)
            elif line.kind == "slash":
                self.slash(line.name, line.args)
            elif line.kind == "message":
                self.post(line.args)
        except UserError as exc:
            self.say(f"  {exc}")
        except TimeoutError:
            self.say("  The bot is still busy after 10 s; "
                     "its answer will show after your next line.")
        except Exception as exc:  # the console must survive anything the app does
            log.debug("console line failed", exc_info=True)
            self.say(f"  Console error: {type(exc).__name__}: {exc}")
        return True

    def slash(self, command: str, args: str) -> None:
        if command != "/impact":
            raise cc.ConsoleInputError(
                f"Only /impact is installed in this workspace, not {command}.")
        reply = self.driver.command(self.user, args, channel=self.channel)
        self.sandbox.settle()
        self._check(reply)
        if reply.text:
            self.show(f"{BOT} (only you):", self.render(None, reply.text))
        self.report()

    def post(self, typed: str) -> None:
        users = {str(u["name"]).lower(): uid for uid, u in self.emu.users.items()}
        channels = {ch.name.lower(): cid for cid, ch in self.emu.channels.items() if not ch.is_im}
        self.emu.add_message(self.channel, user=self.user,
                             text=cc.slack_text(typed, users, channels))
        self.say(f"  ✓ posted in {self.where(self.channel)}")

    # ------------------------------------------------------------------ console commands
    def cmd_help(self, _args: str) -> None:
        self.say(cc.help_text())

    def cmd_as(self, args: str) -> None:
        self.user = self._find_user(args)
        self.say(f"  You are now {self._describe(self.user)}.")

    def cmd_in(self, args: str) -> None:
        wanted = args.strip().lstrip("#").lower()
        for cid, ch in self.emu.channels.items():
            if not ch.is_im and wanted in (cid.lower(), ch.name.lower()):
                self.channel = cid
                self.say(f"  You are in #{ch.name}.")
                return
        names = ", ".join(f"#{ch.name}" for ch in self.emu.channels.values() if not ch.is_im)
        raise cc.ConsoleInputError(f"No channel {args.strip() or '(none given)'}. Try: {names}.")

    def cmd_react(self, args: str) -> None:
        words = args.split()
        if not words:
            raise cc.ConsoleInputError("Which emoji? e.g. :react tada")
        emoji = words[0].strip(":")
        message = self._message_at(words[1:])
        self.driver.reaction(self.user, self.channel, message["ts"], emoji=emoji)
        self.sandbox.settle()
        self.say(f"  You reacted :{emoji}: to {self._about(message)}.")
        self.report()

    def cmd_share(self, args: str) -> None:
        message = self._message_at(args.split())
        reply = self.driver.message_shortcut(self.user, SHORTCUT_CALLBACK, self.channel,
                                             message["ts"])
        self.sandbox.settle()
        self._check(reply)
        self.say(f"  You chose “Share as a win” on {self._about(message)}.")
        self.report()

    def cmd_advance(self, args: str) -> None:
        total = cc.parse_duration(args)
        step = max(timedelta(minutes=TICK_MINUTES), total / MAX_TICKS)
        step = timedelta(minutes=-(-step.total_seconds() // 60))  # whole minutes, rounded up
        clock, end = self.sandbox.clock, self.sandbox.clock.now() + total
        while clock.now() < end:
            now = clock.advance(min(step, end - clock.now()))
            run_due_now(self.sandbox.services)
            self.sandbox.settle()
            self.report(heading=f"── {self._local(now)} ──")
        self.say(f"  Clock moved forward {cc.format_duration(total)}: {self.clock_line()}.")

    def cmd_time(self, _args: str) -> None:
        self.say(f"  {self.clock_line()}")

    def cmd_click(self, args: str) -> None:
        target = next((t for t in reversed(self.targets) if t.owner in (None, self.user)), None)
        if target is None:
            raise cc.ConsoleInputError("Nothing to click: you have seen no buttons yet.")
        number = args.strip()
        if not number.isdigit() or not 1 <= int(number) <= len(target.buttons):
            raise cc.ConsoleInputError(f"Give a button number from 1 to {len(target.buttons)}.")
        button = target.buttons[int(number) - 1]
        self.say(f"  You pressed [ {button.label} ].")
        kwargs: dict[str, Any] = {"value": button.value, "block_id": button.block_id or "b"}
        if target.view_id is not None or target.home_of is not None:
            view = (self.emu.home_views.get(target.home_of) if target.home_of
                    else self.emu.views.get(target.view_id or ""))
            reply = self.driver.block_action(self.user, button.action_id, view=view, **kwargs)
        else:
            message = self.emu.message(target.channel or "", target.ts) if target.ts else None
            reply = self.driver.block_action(self.user, button.action_id, message=message,
                                             channel=target.channel, **kwargs)
        self.sandbox.settle()
        self._check(reply)
        self.report(origin=target.channel)

    def cmd_submit(self, args: str) -> None:
        modal = self._open_modal()
        values = cc.submission_values(modal, cc.parse_assignments(args))
        reply = self.driver.view_submission(self.user, modal, values)
        self.sandbox.settle()
        self._check(reply)
        answer = reply.json if isinstance(reply.json, dict) else {}
        action = answer.get("response_action")
        if action == "errors":
            self.say("  The modal did not accept that:")
            for field, problem in (answer.get("errors") or {}).items():
                self.say(f"    ✗ {field}: {problem}")
        elif action in ("update", "push") and isinstance(answer.get("view"), dict):
            self.show_view(f"{BOT} changed the modal:", {**answer["view"], "id": modal["id"]})
        else:
            self._close_modal()
            self.say("  ✓ submitted (the modal closed)")
        self.report()

    def cmd_close(self, _args: str) -> None:
        modal = self._open_modal()
        if modal.get("notify_on_close"):
            self._check(self.driver.view_closed(self.user, modal))
            self.sandbox.settle()
        self._close_modal()
        self.say("  (modal closed)")
        self.report()

    def cmd_home(self, _args: str) -> None:
        self.driver.app_home_opened(self.user)
        self.sandbox.settle()
        self.report(home_shown=True)
        home = self.emu.home_views.get(self.user)
        if home is None:
            self.say("  The app has not published a Home tab for you.")
        else:
            self.show_view(f"{BOT} · your Home tab:", home, home_of=self.user)

    def cmd_who(self, _args: str) -> None:
        with self.sandbox.store.session() as session:
            for uid, user in self.emu.users.items():
                if user.get("is_bot"):
                    continue
                caller = identify(session, uid)
                role = ("backbone admin" if caller.is_admin else
                        f"partner: {caller.partner_name}" if caller.partner_name else
                        "not in the initiative")
                you = "  ← you" if uid == self.user else ""
                self.say(f"  @{user['name']:<6} {uid:<12} {user['real_name']:<14} "
                         f"{user['tz']:<20} {role}{you}")

    def cmd_tz(self, args: str) -> None:
        zone = args.strip()
        try:
            if not zone:
                raise ValueError
            ZoneInfo(zone)
        except (ValueError, KeyError):
            raise cc.ConsoleInputError(f"No time zone {zone or '(none given)'}: use an IANA "
                                       "name like Europe/Berlin or Asia/Tokyo.") from None
        set_zone(self.sandbox, self.user, zone)
        self.say(f"  Your time zone is now {zone}.")

    # ------------------------------------------------------------------ helpers
    def _find_user(self, text: str) -> str:
        wanted = text.strip().lstrip("@").lower()
        for uid, user in self.emu.users.items():
            names = {uid.lower(), str(user["name"]).lower(), str(user["real_name"]).lower(),
                     str(user["real_name"]).split()[0].lower() if user["real_name"] else ""}
            if wanted and wanted in names and not user.get("is_bot"):
                return uid
        people = ", ".join(str(u["name"]) for u in self.emu.users.values() if not u.get("is_bot"))
        raise cc.ConsoleInputError(f"No one called {text.strip() or '(nobody)'}. Try: {people}.")

    def _message_at(self, words: list[str]) -> dict[str, Any]:
        """The message at TS in this channel, or the last one (`last` or nothing)."""
        if words and words[0] != "last":
            message = self.emu.message(self.channel, words[0])
        else:
            messages = self.emu.messages(self.channel)
            message = messages[-1] if messages else None
        if message is None:
            raise cc.ConsoleInputError(
                f"No such message in {self.where(self.channel)}: type a message first.")
        return message

    def _about(self, message: dict[str, Any]) -> str:
        author = "the bot's" if message.get("bot_id") else f"@{self.name(message.get('user'))}'s"
        text = self.render(message.get("blocks"), message.get("text"))
        return f"{author} message “{cc.snippet(text)}”"

    def _describe(self, user_id: str) -> str:
        user = self.emu.users[user_id]
        return f"@{user['name']} ({user['real_name']}, {user['tz']})"

    def _local(self, instant: Any) -> str:
        tz = ZoneInfo(str(self.emu.users[self.user]["tz"]))
        return dates.moment(instant.astimezone(tz))

    def clock_line(self) -> str:
        now = self.sandbox.clock.now()
        return f"{dates.moment(now)}, {self._local(now)} for you"

    def _open_modal(self) -> dict[str, Any]:
        if self.modal is None:
            raise cc.ConsoleInputError("No modal is open (a bot button or command opens one).")
        return self.modal

    def _close_modal(self) -> None:
        modal = self.modals.pop(self.user, None)
        if modal is not None:
            self.targets = [t for t in self.targets if t.view_id != modal.get("id")]

    def _check(self, reply: Reply) -> None:
        if not reply.ok:
            self.say(f"  ⚠ the app answered HTTP {reply.status}")


def set_zone(sandbox: Any, user_id: str, zone: str) -> None:
    """Give a person a time zone in the emulated Slack profile, and drop what the app cached
    from users.info, so the app asks again and sees it (as it would after a real change)."""
    from sqlalchemy import delete

    from storage.models import SlackUser

    sandbox.emulator.users[user_id]["tz"] = zone
    with sandbox.store.session() as session:
        session.execute(delete(SlackUser).where(SlackUser.user_id == user_id))
