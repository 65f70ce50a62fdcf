"""Contract checks against the official third-party API descriptions in the shared directory."""
