vcl 4.1;

# shutterbox — the edge policy shared by every Varnish node (VCL 4.1, Varnish 7).
#
# Not loaded on its own: shutterbox.vcl (one tier, or the shield tier) and
# shutterbox-edge-shard.vcl (the edge tier of a two-tier setup) define the backends and the
# `purgers` ACL, then include this file. How the edge works and why: docs/cdn.md.
#
# In short:
# - /media/{id}/{name}-{sha256 prefix}.{ext} is immutable (the URL changes whenever the bytes
#   do). GET/HEAD of such a URL is cached as the origin's Cache-Control allows: only a 200
#   that says `public`, never `private`, `no-store`, `no-cache` or a response setting a cookie.
# - A /media request with an Authorization header (private media served to their owner) or
#   a query string (signed URLs of private images) is passed to the origin, never stored.
# - Everything else (/api/, /healthz, /readyz, /docs ...) is passed to the origin.
# - PURGE <path> from an address in the `purgers` ACL drops every cached variant of the URL.
# - While the origin is down, cached media are served stale for up to 24 h (grace).

import std;

# ------------------------------------------------------------------------------------------
# Client side
# ------------------------------------------------------------------------------------------
sub vcl_recv {
    unset req.http.X-Cache;
    if (req.restarts == 0) {
        unset req.http.X-Shutterbox-Stale-If-Error;   # only this VCL may set it
    }

    # The origin tells the edge to forget an image's URLs when it is deleted
    # (SHUTTERBOX_CDN_PURGE_URLS). Only the origin's addresses may do that.
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "purging is not allowed from this address"));
        }
        return (purge);
    }
    # The methods the API uses. Anything else (BAN, TRACE, CONNECT, PRI ...) stops here
    # instead of being piped to the origin.
    if (req.method !~ "^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$") {
        return (synth(405, "method not allowed"));
    }
    if (!req.http.Host && req.proto ~ "^(?i)HTTP/1\.1") {
        return (synth(400, "a Host header is required"));
    }

    # Liveness of this Varnish node itself (the shard director's probe on the edge tier uses
    # it). /healthz and /readyz below are the origin's.
    if (req.url == "/edge-healthz") {
        return (synth(200, "ok"));
    }
    # Prometheus metrics are per API node and meant to be scraped on each node directly. On a
    # machine shared with nginx every request from Varnish would look local to nginx.
    if (req.url ~ "^/metrics(\?|$)") {
        return (synth(404, "not found"));
    }

    # Only /media/ is ever cached. The API, the docs and the health checks always go to the
    # origin, with whatever Authorization and Cookie headers they carry.
    if (req.url !~ "^/media/") {
        return (pass);
    }

    # --- /media/ ---------------------------------------------------------------------------
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);                 # the origin answers 405
    }
    if (req.http.Authorization) {
        # Private images and originals are served to their owner with a bearer token, with
        # `Cache-Control: private, no-store`. Never look them up, never store them.
        return (pass);
    }
    if (req.url ~ "\?") {
        # Signed URLs of private images (?expires=&signature=) are for whoever holds them
        # and are answered `private`. Public media URLs have no query string; one added to
        # them would only fragment the cache.
        return (pass);
    }
    # Public media do not depend on cookies (the origin authenticates with bearer tokens
    # only); a cookie set for the site's pages must not turn every view into a pass.
    unset req.http.Cookie;

    # Format negotiation: the origin answers `Vary: Accept` when it picks AVIF or WebP from
    # the Accept header. Browsers send dozens of different Accept strings; folded into the
    # three answers the origin can give, each URL has at most three cached variants.
    # A type listed with q=0 is refused by the client and does not count.
    if (req.http.Accept ~ "(?i)image/avif(?!\s*;\s*q\s*=\s*0(\.0{0,3})?\s*(,|$))") {
        set req.http.Accept = "image/avif";
    } elsif (req.http.Accept ~ "(?i)image/webp(?!\s*;\s*q\s*=\s*0(\.0{0,3})?\s*(,|$))") {
        set req.http.Accept = "image/webp";
    } else {
        set req.http.Accept = "image/jpeg";
    }

    # Grace. Cached media stay usable for 24 h past their TTL (beresp.grace below). While
    # the backend is healthy a request finding an object more than 10 s past its TTL waits
    # for a fresh copy; when the health probe says the backend is sick, the full 24 h apply.
    # A request whose fetch failed before the probe noticed is restarted once from
    # vcl_synth with the full grace, so it gets the stale copy too.
    if (req.http.X-Shutterbox-Stale-If-Error) {
        set req.grace = 24h;
    } elsif (std.healthy(req.backend_hint)) {
        set req.grace = 10s;
    }
    return (hash);
}

sub vcl_hash {
    # Media URLs mean the same bytes whatever host name they were asked under (the CDN's
    # name, the origin's, the address the origin sends PURGE to), so /media/ is cached by
    # path alone. A PURGE for the path therefore reaches the object clients fetched.
    hash_data(req.url);
    if (req.url !~ "^/media/") {
        if (req.http.Host) {
            hash_data(req.http.Host);
        } else {
            hash_data(server.ip);
        }
    }
    return (lookup);
}

sub vcl_purge {
    # `return (purge)` removed every object of this URL: all Vary variants, grace copies
    # included. Answer 200 whether or not anything was cached.
    return (synth(200, "purged"));
}

sub vcl_hit {
    set req.http.X-Cache = "HIT";
}

sub vcl_miss {
    set req.http.X-Cache = "MISS";
}

sub vcl_pass {
    set req.http.X-Cache = "PASS";
}

sub vcl_deliver {
    # HIT: from this node's cache (Age says for how long it has been cached, fresh or in
    # grace); MISS: fetched now; PASS: not cacheable, fetched for this request only.
    set resp.http.X-Cache = req.http.X-Cache;
}

sub vcl_synth {
    # A miss on /media/ whose fetch failed (origin down, 5xx): try once more with the full
    # grace, which finds a stale copy if this node has one.
    if (resp.status == 503 && req.restarts == 0 && req.http.X-Cache == "MISS"
        && req.url ~ "^/media/") {
        set req.http.X-Shutterbox-Stale-If-Error = "1";
        return (restart);
    }
    if (req.method == "PURGE" && resp.status == 200) {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.body = "purged" + {"
"};
        return (deliver);
    }
    if (req.url == "/edge-healthz" && resp.status == 200) {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.http.Cache-Control = "no-store";
        set resp.body = "ok" + {"
"};
        return (deliver);
    }
    # Errors in the API's JSON shape ({"detail": ..., "code": ...}).
    set resp.http.Content-Type = "application/json";
    set resp.http.Cache-Control = "no-store";
    if (resp.status == 503) {
        set resp.http.Retry-After = "5";
        set resp.body = """{"detail": "the service is unavailable for a moment, try again shortly", "code": "service_unavailable"}""" + {"
"};
    } else {
        if (resp.status == 400) {
            set req.http.X-Shutterbox-Code = "bad_request";
        } elsif (resp.status == 403) {
            set req.http.X-Shutterbox-Code = "forbidden";
        } elsif (resp.status == 404) {
            set req.http.X-Shutterbox-Code = "not_found";
        } elsif (resp.status == 405) {
            set req.http.X-Shutterbox-Code = "method_not_allowed";
        } else {
            set req.http.X-Shutterbox-Code = "edge_error";
        }
        set resp.body = regsub(resp.reason + "|" + req.http.X-Shutterbox-Code, "^(.*)\|(.*)$",
            """{"detail": "\1", "code": "\2"}""") + {"
"};
        unset req.http.X-Shutterbox-Code;
    }
    return (deliver);
}

# ------------------------------------------------------------------------------------------
# Backend side
# ------------------------------------------------------------------------------------------
sub vcl_backend_fetch {
    # Headers this VCL uses for itself (a shield behind an edge sets its own).
    unset bereq.http.X-Cache;
    unset bereq.http.X-Shutterbox-Stale-If-Error;
    if (!bereq.uncacheable) {
        # A miss fetches the whole object; Range requests are then answered from the cached
        # copy, on this and every later request.
        unset bereq.http.Range;
        unset bereq.http.If-Range;
    }
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);              # a pass: nothing is stored, whatever the origin says
    }
    # From here on: GET/HEAD of /media/ without credentials.
    if (beresp.status >= 500) {
        # Keep what is cached: a background refresh leaves the stale copy in place, and a
        # client waiting for this fetch is restarted with the full grace (vcl_synth).
        return (abandon);
    }
    if (beresp.status != 200
        || beresp.http.Set-Cookie
        || beresp.http.Cache-Control !~ "(?i)(^|[\s,])public([\s,]|$)"
        || beresp.http.Cache-Control ~ "(?i)(^|[\s,])(private|no-store|no-cache)([\s,=]|$)"
        || beresp.http.Vary == "*") {
        # Not for a shared cache: 404 (deleted, out of date, private to an anonymous
        # client), private answers. Remember that for 10 s so that requests for the URL go
        # straight to the origin instead of queueing behind each other (hit-for-miss: a
        # cacheable answer replaces it at once).
        set beresp.ttl = 10s;
        set beresp.grace = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # The origin says `public, max-age=31536000, immutable` (a year; browsers keep that).
    # The edge keeps its copy for at most a day and then revalidates it (a conditional
    # request, answered 304 while the image exists): a PURGE that never arrived (an edge
    # down while an image was deleted or made private) is then made up within a day.
    # Raise the cap if the origin's purges are reliable for you.
    if (beresp.ttl > 1d) {
        set beresp.ttl = 1d;
    }
    set beresp.grace = 24h;            # served stale for a day while the origin is down
    set beresp.keep = 1d;              # then still revalidated with If-None-Match
    return (deliver);
}

sub vcl_backend_error {
    if (!bereq.uncacheable && bereq.url ~ "^/media/") {
        # The origin could not be reached for a cacheable fetch: as for a 5xx above.
        return (abandon);
    }
    set beresp.http.Content-Type = "application/json";
    set beresp.http.Cache-Control = "no-store";
    set beresp.http.Retry-After = "5";
    set beresp.body = """{"detail": "the service is unavailable for a moment, try again shortly", "code": "service_unavailable"}""" + {"
"};
    return (deliver);
}
