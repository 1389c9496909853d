"""What the bot sent, as the console prints it: messages, ephemerals, modals, Home tabs.

`Transcript` reads the emulator's record of the bot's Web API calls and response_url posts
since it last looked, prints them in the person's words (names, not ids) and remembers
what had buttons, for `:click`. The session (`session.py`) adds what each typed line does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

from bot.console import commands as cc
from bot.emulator import render_blocks, render_view
from bot.emulator.sandbox import Sandbox

BOT = "Impact Bot"


@dataclass(frozen=True)
class Target:
    """Something shown with buttons: what `:click N` presses."""

    buttons: list[cc.Button]
    channel: str | None = None
    ts: str | None = None  # a message stored in the channel
    view_id: str | None = None  # a modal
    home_of: str | None = None  # a Home tab
    owner: str | None = None  # who can see it (None: everyone in the channel)


class Transcript:
    """What a person at the terminal (`user` in `channel`) has been shown."""

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

    def render(self, blocks: Any, text: str | None) -> str:
        return render_blocks(self.named(blocks), self.named(text))

    def tidy(self, rendered: str) -> str:
        return cc.emphasis(rendered, ansi=self.ansi)

    def named(self, obj: Any) -> Any:
        """Mentions by name (`<@U0AAA>` reads as @ana), as Slack's client shows them."""
        names = {uid: str(u["name"]) for uid, u in self.emu.users.items()}
        names.update({cid: ch.name for cid, ch in self.emu.channels.items() if not ch.is_im})
        return cc.name_mentions(obj, names)


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
                data = uploaded[0].bytes if uploaded else b""
                saved = cc.save_binary(data, uploaded[0].filename if uploaded else "file")
                lines = [f"saved to {saved} (open it to see it)"] if saved else cc.preview(data)
                for line in lines:
                    self.say(f"  {line}")
