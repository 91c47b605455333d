"""Where a Mac's WebSocket lands: the gateway's end of the agent protocol (the protocol and the
Mac's end: `connectors.agent`). The hub is the endpoint agents connect to and the Connector of
lines whose connector is `agent`; questions relay what a request needs of an agent connected to
another gateway process; tokens are the agents' credentials; attachments stores the media an
agent carried in an inbound event. Like the dispatch and delivery workers, it calls services
and the store."""
