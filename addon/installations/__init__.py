"""Installations: one per Saleor instance (the auth persistence layer), their lifecycle, and the
Saleor-facing side of the app: registration (manifest, register), the webhook inbox, and
authentication of the dashboard's calls. Speaks Saleor through addon/saleor/ (the protocol)."""
