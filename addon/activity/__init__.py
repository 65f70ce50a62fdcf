"""The Activity page's API: what the app received and did for an installation, and retries."""
