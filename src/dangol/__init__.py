"""Dangol — retention CRM for small shops."""
