"""Erasure (GDPR): forgetting a customer in Mailchimp and in the app's own tables."""
