"""The agent layer: the publisher's agent files (DATA-CONTRACT §2), generated live from the database."""
