"""E-commerce tracking: one Mailchimp store per Saleor channel."""
