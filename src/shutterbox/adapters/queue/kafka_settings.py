"""What a ``kafka://`` queue URL says: brokers, topics, consumer group, partitions, and the
security settings of a hosted Kafka (``kafka.py`` documents each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

DEFAULT_TOPIC = "shutterbox-jobs"
DEFAULT_GROUP = "shutterbox-workers"
DEFAULT_PARTITIONS = 12


@dataclass(frozen=True)
class KafkaSettings:
    """What a ``kafka://`` URL says."""

    bootstrap_servers: list[str]
    topic: str
    group: str
    partitions: int
    replication: int
    session_timeout_ms: int
    security: dict[str, str]

    @classmethod
    def from_url(cls, url: str) -> KafkaSettings:
        parsed = urlparse(url)
        query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        hosts = parsed.netloc.rpartition("@")[2]
        servers = [host for host in hosts.split(",") if host]
        if not servers:
            raise ValueError(f"the Kafka URL {url!r} names no broker")
        security = {}
        if "security_protocol" in query:
            security["security_protocol"] = query["security_protocol"]
        if "sasl_mechanism" in query:
            security["sasl_mechanism"] = query["sasl_mechanism"]
        if parsed.username:
            security["sasl_plain_username"] = unquote(parsed.username)
            security["sasl_plain_password"] = unquote(parsed.password or "")
        return cls(
            bootstrap_servers=servers,
            topic=query.get("topic", DEFAULT_TOPIC),
            group=query.get("group", DEFAULT_GROUP),
            partitions=int(query.get("partitions", DEFAULT_PARTITIONS)),
            replication=int(query.get("replication", 1)),
            session_timeout_ms=int(query.get("session_timeout_ms", 10_000)),
            security=security,
        )

    @property
    def bulk_topic(self) -> str:
        return f"{self.topic}.bulk"

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            # Topics made again (a broker that lost them) are seen within seconds, not minutes.
            "metadata_max_age_ms": 5000,
            **self.security,
        }
        if self.security.get("security_protocol", "").endswith("SSL"):
            from aiokafka.helpers import create_ssl_context

            options["ssl_context"] = create_ssl_context()
        return options
