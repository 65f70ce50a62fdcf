"""Installations: one per Saleor instance (the auth persistence layer), and their lifecycle."""
