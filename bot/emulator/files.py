"""files.* upload v2: get an upload URL, POST the bytes there, complete (share) the upload."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.emulator.api import ApiError, Method, bot_message, resolve_channel
from bot.emulator.state import Channel, UploadedFile, Workspace


def get_upload_url_external(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    filename = params.get("filename")
    length = params.get("length")
    if not filename or length in (None, ""):
        raise ApiError("invalid_arguments")
    fid = f"F{next(ws._ids):010d}"
    ws._pending_uploads[fid] = {"filename": str(filename), "length": int(length)}
    return {"upload_url": f"{ws.base_url}/upload/v1/{fid}", "file_id": fid}


def receive_upload(ws: Workspace, fid: str, data: bytes) -> bool:
    """The bytes POSTed to an upload URL; False if no upload waits under that id."""
    with ws._cond:
        pending = ws._pending_uploads.get(fid)
        if pending is None:
            return False
        pending["data"] = data
        ws._cond.notify_all()
        return True


def _file_object(
    ws: Workspace, fid: str, name: str, title: str, size: int, ch: Channel | None
) -> dict[str, Any]:
    """A file as Slack describes it in completeUploadExternal's answer."""
    _, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot else ""
    return {
        "id": fid,
        "created": int(time.time()),
        "timestamp": int(time.time()),
        "name": name,
        "title": title,
        "mimetype": "",
        "filetype": ext,
        "pretty_type": ext.upper(),
        "user": ws.bot_user_id,
        "user_team": ws.team_id,
        "editable": False,
        "size": size,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": bool(ch and not ch.is_private),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"{ws.base_url}/files/{fid}/{name}",
        "url_private_download": f"{ws.base_url}/files/{fid}/download",
        "permalink": f"https://{ws.team_domain}.slack.com/files/{ws.bot_user_id}/{fid}/{name}",
        "comments_count": 0,
        "shares": {},
        "channels": [],
        "groups": [],
        "ims": [],
        "has_more_shares": False,
        "has_rich_preview": False,
        "file_access": "visible",
    }


def complete_upload_external(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    files = params.get("files")
    if not isinstance(files, list) or not files:
        raise ApiError("invalid_arguments")
    channel_id = params.get("channel_id") or None
    channels = params.get("channels")
    if not channel_id and channels:
        channel_id = str(channels).split(",")[0]
    ch: Channel | None = None
    if channel_id:
        ch = resolve_channel(ws, channel_id, allow_user=False)
        if not ch.bot_is_member:
            raise ApiError("not_in_channel")
    entries = []
    for f in files:
        fid = f.get("id") if isinstance(f, dict) else None
        pending = ws._pending_uploads.get(str(fid))
        if pending is None or "data" not in pending:
            raise ApiError("file_not_found")
        entries.append((str(fid), f, pending))
    out = []
    thread_ts = params.get("thread_ts") or None
    comment = params.get("initial_comment") or None
    for fid, f, pending in entries:
        del ws._pending_uploads[fid]
        title = f.get("title") or pending["filename"]
        ws.uploaded_files.append(
            UploadedFile(
                file_id=fid,
                filename=pending["filename"],
                title=title,
                bytes=pending["data"],
                channel_id=ch.id if ch else None,
                initial_comment=comment,
                thread_ts=thread_ts,
            )
        )
        out.append(
            _file_object(ws, fid, str(pending["filename"]), title, len(pending["data"]), ch)
        )
    if ch is not None:
        ts = ws._next_ts()
        msg = bot_message(ws, {"text": comment or ""}, ts)
        msg["files"] = copy.deepcopy(out)
        msg["upload"] = True
        ws._store(ch.id, msg, str(thread_ts) if thread_ts else None)
    return {"files": out}


METHODS: dict[str, Method] = {
    "files.getUploadURLExternal": get_upload_url_external,
    "files.completeUploadExternal": complete_upload_external,
}
