"""Initial sync: a channel's history (products, customers, orders) sent to Mailchimp in bulk."""
