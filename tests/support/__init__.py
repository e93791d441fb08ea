"""What tests and benchmarks share: ports, server processes, clients, endpoints and fakes."""
