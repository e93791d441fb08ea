"""Storage over time: lifecycle rules, restores from archive classes, trash, bucket rules and
scrub."""
