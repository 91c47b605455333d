"""The sandbox network's gateway side: its phones' state in the store, shared by every process
(network.py). The phones' behaviours are the connector's (connectors/sandbox.py)."""
