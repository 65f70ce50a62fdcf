"""Everything that speaks Saleor's protocols: manifest, register, webhooks, JWKS, GraphQL."""
