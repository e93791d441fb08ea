"""One repository module per aggregate: every SQL query of the service lives here."""
