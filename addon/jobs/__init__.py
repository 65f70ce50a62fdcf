"""The durable inbox and work queue: every webhook and every Mailchimp write is a job."""
