"""Delivery: email (and the delivery log that makes it idempotent)."""
