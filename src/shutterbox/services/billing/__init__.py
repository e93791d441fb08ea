"""Billing: the cost model as a service, the live bill and egress metering."""
