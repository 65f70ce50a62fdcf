"""Newsletter subscriptions routed through Mailchimp, both ways."""
