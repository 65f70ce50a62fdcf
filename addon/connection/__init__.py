"""The installation's connection to a Mailchimp account: API key, OAuth login or sign-up."""
