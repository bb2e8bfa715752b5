"""Connections to other systems: signed outgoing webhooks for the shop's own tools."""
