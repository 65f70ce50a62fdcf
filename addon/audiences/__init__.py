"""Mailchimp audiences and groups imported into the store, and what the store offers."""
