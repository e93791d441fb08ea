"""People: accounts, sessions, follows, quotas and rate limits."""
