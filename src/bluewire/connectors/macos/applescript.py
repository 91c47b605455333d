"""Sending through Messages.app with `osascript`.

Every script is a fixed constant read by osascript from standard input; the values (chat guid,
address, text, file path) arrive as `on run argv` arguments, so no message text is ever part
of script source and none can change what the script does.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence

from ...domain.errors import ErrorCode
from ..protocol import SendFailed

SEND_TEXT_TO_CHAT = """\
on run {targetChatGuid, messageText}
  tell application "Messages"
    send messageText to chat id targetChatGuid
  end tell
end run
"""

# When Messages has no chat with the address yet (`service type` is macOS 13+).
SEND_TEXT_TO_PARTICIPANT = """\
on run {targetAddress, messageText}
  tell application "Messages"
    set targetAccount to 1st account whose service type = iMessage
    set targetParticipant to participant targetAddress of targetAccount
    send messageText to targetParticipant
  end tell
end run
"""

# The file is made outside the `tell`, as the bridges do: inside it, Messages resolves the term.
SEND_FILE_TO_CHAT = """\
on run {targetChatGuid, filePath}
  set theFile to POSIX file filePath
  tell application "Messages"
    send theFile to chat id targetChatGuid
  end tell
end run
"""

SEND_FILE_TO_PARTICIPANT = """\
on run {targetAddress, filePath}
  set theFile to POSIX file filePath
  tell application "Messages"
    set targetAccount to 1st account whose service type = iMessage
    set targetParticipant to participant targetAddress of targetAccount
    send theFile to targetParticipant
  end tell
end run
"""

SCRIPTS: frozenset[str] = frozenset(
    {SEND_TEXT_TO_CHAT, SEND_TEXT_TO_PARTICIPANT, SEND_FILE_TO_CHAT, SEND_FILE_TO_PARTICIPANT})

DEFAULT_TIMEOUT_S = 30.0


async def run_script(script: str, args: Sequence[str], timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Run one of SCRIPTS with `args` as its `on run` arguments; its output, or SendFailed."""
    if script not in SCRIPTS:
        raise ValueError("only the connector's own scripts are run")
    osascript = shutil.which("osascript")
    if osascript is None:
        raise SendFailed(ErrorCode.SEND_FAILED, "osascript was not found on PATH: the Messages.app "
                                                "connector must run on a Mac")
    proc = await asyncio.create_subprocess_exec(
        osascript, "-", *args, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(script.encode()), timeout_s)
    except TimeoutError:
        await _kill(proc)
        raise SendFailed(ErrorCode.SEND_FAILED, f"Messages.app did not take the message within "
                                                f"{timeout_s:g} s (osascript timed out)") from None
    if proc.returncode != 0:
        reason = stderr.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        raise SendFailed(ErrorCode.SEND_FAILED, f"Messages.app refused the message: {reason}")
    return stdout.decode(errors="replace").strip()


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()
