"""GraphQL documents the sandbox itself uses (examples, demo subscriptions, self-checks).

They are validated against Saleor's official schema by the contract tests, so anything shown
here works against a real Saleor as well.
"""

from __future__ import annotations

APP_ID_QUERY = "query AppId { app { id } }"

ORDER_CREATED_SUBSCRIPTION = """
subscription OrderCreated {
  event {
    ... on OrderCreated {
      issuedAt
      version
      recipient { id }
      order {
        id
        number
        userEmail
        created
        status
        isPaid
        channel { slug currencyCode }
        total { gross { amount currency } net { amount } tax { amount } }
        shippingPrice { gross { amount } }
        discounts { type amount { amount } }
        lines {
          id
          productName
          variantName
          productSku
          quantity
          unitPrice { gross { amount currency } }
          variant { id product { id } }
        }
        metadata { key value }
      }
    }
  }
}
"""

APP_LIFECYCLE_SUBSCRIPTION = """
subscription AppLifecycle {
  event {
    issuedAt
    ... on AppStatusChanged { app { id isActive } }
    ... on AppDeleted { app { id } }
  }
}
"""

SANDBOX_DOCUMENTS: dict[str, str] = {
    "AppId": APP_ID_QUERY,
    "OrderCreated": ORDER_CREATED_SUBSCRIPTION,
    "AppLifecycle": APP_LIFECYCLE_SUBSCRIPTION,
}
