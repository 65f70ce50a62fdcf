"""Initial sync: a channel's history (products, customers, orders) sent to Mailchimp in bulk.

A sync (`InitialSync`) is moved on by a chain of worker jobs on one lane per channel (`jobs`,
`state`). Each step (`step`) reads pages from Saleor (`reader`), decides what to send
(`planner`), submits Mailchimp batches, and applies the finished ones to the sync ledger
shared with live sync (`applier`). Products and customers are read side by side from the start;
orders reference variants, so they are read once every product batch is applied. Live changes
win over the initial sync's older reading. `service` and `endpoints` start, read and cancel a
sync for the dashboard; `cli` and `view` do it from a terminal.
"""
