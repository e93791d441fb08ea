"""What tests and benchmarks share: ports, server processes, clients, endpoints and fakes.

- ``ports``: a free port, waiting for one to answer.
- ``processes``: ``ManagedProcess``, the one way to start a server or worker, wait until it
  answers and stop it (SIGTERM, then SIGKILL), its output in a log file.
- ``server``, ``cluster``, ``varnish``: `shutterbox serve`/`worker`, a scaled installation
  (API nodes, workers, nginx) and varnishd, all ``ManagedProcess``es.
- ``servers``: PostgreSQL, NATS and the moto S3 endpoint, and the skip-unless-CI rule.
- ``clients``: ``register``, ``upload``, ``wait_for_status`` ... for a ``TestClient`` or an
  httpx client; ``app``: running service functions on a ``TestClient``'s loop.
- ``settings``, ``images``, ``cli``, ``faults``, ``browser``, ``recording_edge``: settings
  for an app under test, domain objects, the CLI in-process, fault injection, the browser
  tests' page wrapper, a stand-in edge that records purges.
- ``fakes``: in-process stand-ins for adapters (``fakes.imaging.InProcessImaging``).
"""
