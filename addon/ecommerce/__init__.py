"""E-commerce tracking: one Mailchimp store per Saleor channel, products, customers, orders and
abandoned carts pushed live through the sync ledger (see `addon.ecommerce.sync`)."""
