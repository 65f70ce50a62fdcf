"""Campaign engagement collected back from Mailchimp (issue 19)."""
