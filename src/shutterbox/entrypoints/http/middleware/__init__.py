"""What wraps requests and answers: one module per concern (request metrics, egress
metering, rate limiting, same-origin checks and the session cookie, stream closing)."""
