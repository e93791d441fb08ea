vcl 4.1;

# shutterbox — Varnish 7 as the edge cache in front of the origin (VCL 4.1).
#
# Use it for a single caching tier, and for the shield nodes of a two-tier setup (the edge
# nodes then load shutterbox-edge-shard.vcl). Keep shutterbox-common.vcl next to this file:
# it holds the caching policy and is included below. Check after every change with
#
#     varnishd -C -f /etc/varnish/shutterbox.vcl > /dev/null
#
# and run e.g.
#
#     varnishd -a :80 -f /etc/varnish/shutterbox.vcl -s malloc,4g
#
# How the edge works, purging, grace, private media: docs/cdn.md.

# The origin: nginx in front of the API nodes (deploy/nginx/shutterbox.conf listens on
# 8080), or a single `shutterbox serve` (port 8000). Set the two values below.
backend origin {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 60s;
    # The origin's liveness. When it fails 3 of the last 5 probes the backend is "sick" and
    # cached media are served stale for up to 24 h (shutterbox-common.vcl, grace).
    .probe = {
        .url = "/healthz";
        .expected_response = 200;
        .interval = 2s;
        .timeout = 1s;
        .window = 5;
        .threshold = 3;
        .initial = 3;          # start healthy: a Varnish restart does not refuse traffic
    }
}

# Who may send PURGE: the addresses the origin's API nodes connect from (they purge every
# URL of an image when it is deleted; SHUTTERBOX_CDN_PURGE_URLS). Add the API nodes'
# addresses or their network when they run on other machines. client.ip is the
# address of the TCP peer: if a TLS terminator on this machine forwards clients to Varnish,
# every client looks local here, so have it speak the PROXY protocol (`-a :8443,PROXY`) or
# remove the local addresses from this list.
acl purgers {
    "127.0.0.1";
    "::1";
    # "10.0.1.0"/24;       # the API nodes' network
}

include "./shutterbox-common.vcl";
