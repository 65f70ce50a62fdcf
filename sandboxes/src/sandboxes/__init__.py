"""Offline stand-ins for Saleor and Mailchimp.

They are products of their own: the test suite runs against them, and a developer can use the
app (and a storefront) end to end without a Saleor or a Mailchimp account.
"""
