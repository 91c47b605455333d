"""The agent protocol: a Mac (or any host running a local Connector) serves lines of a gateway
by connecting OUT to it over a WebSocket, so it works behind NAT.

This package is the Mac's end (client, state, attachments) and the frames both ends speak; it
imports only the domain and the connector protocol, so it runs on a machine without the gateway.
The gateway's end, where the WebSocket lands (hub, questions, tokens), is `bluewire.agents`.

Transport: one WebSocket, `GET /api/agent/v1/connect`, JSON text frames (msgspec). Liveness is
the WebSocket's own ping/pong (both ends ping; a dead connection is closed within ~20 s).

Handshake (the first frame is the agent's):

    agent   -> {"type": "hello", "token": "agt_<id>.<secret>", "agent_version": "…",
                "lines": [{"number": "+1…", "capabilities": {"services": ["iMessage"],
                           "groups": false, "media": false, "mark_read": false,
                           "typing": false, "lookup": false}}],
                "last_seen_command_id": "…"}            (optional, informative)
    gateway -> {"type": "welcome", "session": "<id>", "lines": ["+1…"],
                "events": ["status", "inbound", "typing", "reaction"]}
            or {"type": "error", "code": "…", "message": "…"} and a close (4401 bad or revoked
               token, 4403 a line the token does not serve or that is not an `agent` line,
               1013 `line_held_elsewhere` or `unavailable`: the agent retries)

A line's capabilities cross as announced (a flag an older agent does not name is false), less
what no command below carries: `reactions` (tapbacks), `group_names`, `group_photos`. The
welcome's `events` lists the kinds of event the gateway takes; a gateway whose welcome has none
predates the list and takes status, inbound and typing only: the agent drops other events
(logged) rather than keep re-sending what would never be acknowledged.

Commands, gateway -> agent, each with a unique id:

    {"id": "send:<handle>", "type": "send", "message": {OutboundMessage fields}}
    {"id": "…", "type": "mark_read", "line": "+1…", "number": "+1…"}
    {"id": "…", "type": "typing", "line": "+1…", "number": "+1…", "typing": true}
    {"id": "lookup:…", "type": "lookup", "line": "+1…", "number": "+1…"}
                                      (a read, answered at once; never queued or re-sent)

Events, agent -> gateway, each with a unique id:

    {"id": "…", "type": "status", "update": {StatusUpdate fields}}
    {"id": "…", "type": "inbound", "message": {Inbound fields},
     "attachments": [{"url": "file:///…", "name": "…", "content_type": "…", "data": "<base64>"}]}
                                                         ("attachments": optional, attachments.py)
    {"id": "…", "type": "typing", "event": {Typing fields}}
    {"id": "…", "type": "reaction", "event": {Reaction fields}}
                      (a phone's tapback on a message of the line, by the message's handle)

An inbound may carry `"handle"`: the message's own id on the network (a Mac's chat.db guid,
at most 64 characters). The gateway keeps it as the message's handle, so that a later tapback
or inline reply (`reply_to`) can name it; an inbound without one (an older agent) gets a
handle derived from the event id.

An inbound's `file://` media (the files an engine such as Messages.app saved on the agent's
host) travel as attachments in the event; the gateway stores them as inbound media (expiring
like any received media) and replaces the file URLs with its own download links before the
message is stored. A file that is missing, unreadable or too large is logged and dropped.

Every command and event is answered `{"type": "ack", "id": "…"}` (a send's ack may carry
`"error": {"code": 10001, "reason": "…"}`: the network refused it, the message ends in ERROR;
a lookup's carries `"service": "iMessage" | "SMS" | null`, null when the engine cannot say).

Guarantees — a dropped connection loses and doubles nothing:

* Commands. The gateway's durable outbox is the messages table: a send is a QUEUED message. If
  the line's agent is not connected, or the connection drops before the ack, `send` raises
  `LineOffline`: the dispatcher hands the claim back (QUEUED, no attempt used), due again in
  a second; an agent connecting also wakes the dispatcher. A send's command id is derived
  from the message handle, so a retry re-sends the same id; the agent keeps the ids it executed
  in its state file (write-ahead: "started" before the engine is called, "done" after) and acks
  a duplicate with the stored result instead of sending again. A command found "started" but
  not "done" (the agent died in between) is settled by asking the engine (`resolve`), never by
  sending blindly.
  mark_read/typing are kept in memory by the gateway and re-sent after a reconnect until acked.
* Events. The agent appends each event to the outbox in its state file before sending it, drops
  it only when acked, and re-sends the rest after every reconnect. The gateway acks an event only
  once it is committed. Duplicates are dropped by a bounded in-memory seen-set per token; inbound
  messages are deduplicated durably as well: the stored message's handle is its network id, or
  derived from (token, event id), and the sink skips an inbound whose handle already exists, in
  the same transaction that would insert it — so a gateway restart between commit and ack
  cannot make two messages. (Status and typing events are idempotent in the sink already; a
  reaction event re-sent after such a restart records the tapback again, which puts it on or
  takes it off as before.)

Several gateway processes (PostgreSQL): a line's agent is served by the one process holding the
line's lease (`line_lease`, kept by `services.ownership.LeaseKeeper`), taken at the hello and
given up at the disconnect. Another process refuses the agent for now (`line_held_elsewhere`:
it retries) until the lease is free, or has run out because its holder died; a process that
loses a lease drops that agent. A message of the line claimed by another process gets
`LineOffline` there, is handed back, and is soon claimed by the process serving the agent.
"""
