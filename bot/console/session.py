"""One console session: who you are and where, what each line does, what the bot sent back.

Every line becomes what Slack would send (a signed slash command, an event, an interaction)
through the sandbox's driver; what the bot sent back is read off the emulator and printed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.console import commands as cc
from bot.emulator import render_blocks, render_view
from bot.emulator.driver import Reply
from bot.emulator.sandbox import Sandbox
from bot.runtime.errors import UserError
from bot.runtime.manifest import SHORTCUT_CALLBACK

log = logging.getLogger(__name__)

BOT = "Impact Bot"
MAX_TICKS = 300  # an :advance runs at most this many scheduler ticks


@dataclass(frozen=True)
class Target:
    """Something shown with buttons: what `:click N` presses."""

    buttons: list[cc.Button]
    channel: str | None = None
    ts: str | None = None  # a message stored in the channel
    view_id: str | None = None  # a modal
    home_of: str | None = None  # a Home tab
    owner: str | None = None  # who can see it (None: everyone in the channel)


class Console:
    """A person at the terminal: acts as `user` in `channel`, prints what the bot sends."""

    def __init__(self, sandbox: Sandbox, out: TextIO, user: str, channel: str, *,
                 ansi: bool = False) -> None:
        self.sandbox, self.emu, self.driver = sandbox, sandbox.emulator, sandbox.driver
        self.out, self.ansi = out, ansi
        self.user, self.channel = user, channel
        self.modals: dict[str, dict[str, Any]] = {}  # user id -> the modal open for them
        self.targets: list[Target] = []  # things shown with buttons, oldest first
        self._seen_calls = len(self.emu.calls)
        self._seen_posts = len(self.emu.response_posts)
        self._seen_invalid = len(self.emu.invalid_payloads)

    # ------------------------------------------------------------------ names
    def name(self, user_id: str | None) -> str:
        return str(self.emu.users.get(user_id or "", {}).get("name") or user_id)

    def where(self, channel_id: str | None) -> str:
        ch = self.emu.channels.get(channel_id or "")
        if ch is None:
            return str(channel_id)
        if ch.is_im:
            return "DM to you" if ch.user == self.user else f"DM to @{self.name(ch.user)}"
        return f"#{ch.name}"

    def place(self, channel_id: str | None) -> str:
        """`in #wins`, or `(DM to you)`: where something the bot sent went."""
        where = self.where(channel_id)
        return f"({where})" if where.startswith("DM") else f"in {where}"

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.modals.get(self.user)

    def prompt(self) -> str:
        modal = f" [{cc.plain(self.modal.get('title'))}]" if self.modal is not None else ""
        return f"{self.name(self.user)}@{self.where(self.channel)}{modal}> "

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

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
        from bot.runtime.scheduler import TICK_MINUTES, run_due_now

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
        from bot.initiative.people import identify

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

    def render(self, blocks: Any, text: str | None) -> str:
        return render_blocks(self.named(blocks), self.named(text))

    def tidy(self, rendered: str) -> str:
        return cc.emphasis(rendered, ansi=self.ansi)

    def named(self, obj: Any) -> Any:
        """Mentions by name (`<@U0AAA>` reads as @ana), as Slack's client shows them."""
        names = {uid: str(u["name"]) for uid, u in self.emu.users.items()}
        names.update({cid: ch.name for cid, ch in self.emu.channels.items() if not ch.is_im})
        return cc.name_mentions(obj, names)

    def _describe(self, user_id: str) -> str:
        user = self.emu.users[user_id]
        return f"@{user['name']} ({user['real_name']}, {user['tz']})"

    def _local(self, instant: Any) -> str:
        tz = ZoneInfo(str(self.emu.users[self.user]["tz"]))
        return instant.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")

    def clock_line(self) -> str:
        now = self.sandbox.clock.now()
        return f"{now:%a %d %b %Y %H:%M} UTC, {self._local(now)} for you"

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

    # ------------------------------------------------------------------ what the bot sent
    def show(self, header: str, body: str, target: Target | None = None) -> None:
        self.say(header)
        for line in self.tidy(body).splitlines() or [""]:
            self.say(f"  {line}")
        if target is not None and target.buttons:
            self.targets = [*self.targets[-49:], target]
            whose = "" if target.owner in (None, self.user) else f"@{self.name(target.owner)}, "
            self.say("  " + cc.click_hint(target.buttons, whose))

    def show_view(self, header: str, view: dict[str, Any], *, home_of: str | None = None) -> None:
        found = cc.buttons(view.get("blocks"))
        target = Target(found, view_id=None if home_of else view.get("id"), home_of=home_of,
                        owner=home_of or self.user)
        self.show(header, render_view(self.named(view)), target)
        if view.get("type") == "modal" and home_of is None:
            self.modals[self.user] = view
            if cc.fields(view):
                self.say("  " + cc.fields_hint(view))

    def report(self, *, heading: str | None = None, origin: str | None = None,
               home_shown: bool = False) -> None:
        """Print everything the bot sent since the last report."""
        calls = self.emu.calls[self._seen_calls:]
        posts = self.emu.response_posts[self._seen_posts:]
        invalid = self.emu.invalid_payloads[self._seen_invalid:]
        self._seen_calls += len(calls)
        self._seen_posts += len(posts)
        self._seen_invalid += len(invalid)
        shown = [c for c in calls if c.method in cc.VISIBLE_METHODS]
        if heading and (shown or posts or invalid):
            self.say(heading)
        for post in posts:
            self._show_response_post(post.payload, origin or self.channel)
        homes: list[str] = []  # Home tabs are republished often: one line for all of them
        for call in shown:
            view = call.response.get("view")
            if call.response.get("ok") and isinstance(view, dict) and view.get("type") == "home":
                homes.extend(uid for uid, home in self.emu.home_views.items()
                             if home.get("id") == view.get("id"))
            else:
                self._show_call(call.method, call.params, call.response)
        owners = [uid for uid in dict.fromkeys(homes) if not (home_shown and uid == self.user)]
        if owners:
            whose = ", ".join("you" if uid == self.user else f"@{self.name(uid)}"
                              for uid in owners)
            self.say(f"  ({BOT} updated the Home tab of {whose}: :home to see yours)")
        for method, problems in invalid:
            self.say(f"  ⚠ Slack would reject the bot's {method}: {problems}")

    def _show_response_post(self, payload: dict[str, Any], channel: str) -> None:
        if payload.get("delete_original"):
            self.say(f"{BOT} deleted the message it had sent you.")
            return
        body = self.render(payload.get("blocks"), payload.get("text"))
        if payload.get("response_type") == "in_channel":
            header = f"{BOT} in {self.where(channel)}:"
        elif payload.get("replace_original"):
            header = f"{BOT} (only you, replacing its message):"
        else:
            header = f"{BOT} (only you):"
        self.show(header, body, Target(cc.buttons(payload.get("blocks")), channel=channel,
                                       owner=self.user))

    def _show_call(self, method: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        if not response.get("ok"):
            self.say(f"  ⚠ the bot's {method} call failed: {response.get('error')}")
        elif method in ("chat.postMessage", "chat.update"):
            message, channel = response.get("message") or {}, str(response.get("channel"))
            verb = "" if method == "chat.postMessage" else " edited its message"
            thread = " (in a thread)" if message.get("thread_ts") not in (None,
                                                                          message.get("ts")) else ""
            dm = self.emu.channels.get(channel)
            self.show(f"{BOT}{verb} {self.place(channel)}{thread}:",
                      self.render(message.get("blocks"), message.get("text")),
                      Target(cc.buttons(message.get("blocks")), channel=channel,
                             ts=message.get("ts"), owner=dm.user if dm and dm.is_im else None))
        elif method == "chat.postEphemeral":
            who = "you" if params.get("user") == self.user else f"@{self.name(params.get('user'))}"
            self.show(f"{BOT} in {self.where(params.get('channel'))} (only {who}):",
                      self.render(params.get("blocks"), params.get("text")),
                      Target(cc.buttons(params.get("blocks")), channel=params.get("channel"),
                             owner=params.get("user")))
        elif method == "chat.delete":
            self.say(f"{BOT} deleted a message {self.place(params.get('channel'))}.")
        elif method in ("views.open", "views.push"):
            self.show_view(f"{BOT} opened a modal:", response["view"])
        elif method == "views.update" and response["view"].get("type") == "modal":
            self.show_view(f"{BOT} updated the modal:", response["view"])
        elif method == "files.completeUploadExternal":
            for file in params.get("files") or []:
                self.say(f"{BOT} shared a file {self.place(params.get('channel_id'))}: "
                         f"{file.get('title') or file.get('id')}")
                uploaded = [f for f in self.emu.uploaded_files if f.file_id == file.get("id")]
                for line in cc.preview(uploaded[0].bytes if uploaded else b""):
                    self.say(f"  {line}")
