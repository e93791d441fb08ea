vcl 4.1;

# shutterbox — the edge tier of a two-tier Varnish setup (VCL 4.1, Varnish 7).
#
#     clients ──▶ edge nodes (this file) ──shard by URL──▶ shield nodes (shutterbox.vcl) ──▶ origin
#
# Edge nodes sit close to the clients and send their misses to a few shield nodes in front
# of the origin. The shard director hashes the URL onto a consistent-hashing ring, so each
# URL has one home shield: every shield caches a different slice of the media, the shields
# together hold the whole working set once, and the origin sees about one fetch per URL
# instead of one per edge node. When a shield is sick its URLs move to the next shield on
# the ring; adding or removing a shield moves only the URLs on its part of the ring.
#
# The caching policy (what is cached, PURGE, grace, X-Cache) is the same on both tiers:
# shutterbox-common.vcl, included below; keep it next to this file. Shields run
# shutterbox.vcl with the origin as their backend. Check with
#
#     varnishd -C -f /etc/varnish/shutterbox-edge-shard.vcl > /dev/null
#
# Purging: list the shields before the edges in the origin's SHUTTERBOX_CDN_PURGE_URLS, so
# that an edge cannot refetch a purged URL from a shield that still holds it. Both tiers'
# `purgers` ACLs must allow the API nodes. More in docs/cdn.md.

import directors;

# The shields are Varnish nodes themselves: their own /edge-healthz (answered by the
# shield's VCL, not passed to the origin) says whether they can serve. A shield stays
# usable while the origin is down: it serves its stale copies.
probe shield_health {
    .url = "/edge-healthz";
    .expected_response = 200;
    .interval = 2s;
    .timeout = 1s;
    .window = 5;
    .threshold = 3;
    .initial = 3;
}

# One backend per shield node; set their addresses (and add or remove shields here and in
# vcl_init below).
backend shield1 {
    .host = "10.0.2.11";
    .port = "80";
    .probe = shield_health;
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 60s;
}
backend shield2 {
    .host = "10.0.2.12";
    .port = "80";
    .probe = shield_health;
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 60s;
}
backend shield3 {
    .host = "10.0.2.13";
    .port = "80";
    .probe = shield_health;
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 60s;
}

sub vcl_init {
    # Consistent hashing of the URL (not of the Host header: media URLs are the same bytes
    # under any host name).
    new by_url = directors.shard_param();
    by_url.set(by=URL, healthy=CHOSEN);

    new shields = directors.shard();
    shields.add_backend(shield1);
    shields.add_backend(shield2);
    shields.add_backend(shield3);
    shields.associate(by_url.use());
    shields.reconfigure();
}

# Who may send PURGE to this edge node: the origin's API nodes (see shutterbox.vcl).
acl purgers {
    "127.0.0.1";
    "::1";
    # "10.0.1.0"/24;       # the API nodes' network
}

sub vcl_recv {
    # Every request that leaves this node goes to a shield (the shields pass what is not
    # cacheable on to the origin); the shard director picks the URL's shield when the fetch
    # starts. Set before the shared policy runs, so that its health check (grace) asks
    # whether any shield is usable.
    set req.backend_hint = shields.backend(resolve=LAZY);
}

include "./shutterbox-common.vcl";
