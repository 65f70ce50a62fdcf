"""Saleor's protocol only: the GraphQL client and its documents, JWS verification, the manifest,
and which Saleor versions have what. Imports no capability: registration, the webhook inbox and
dashboard authentication live with installations (addon/installations/)."""
