/*
 * The feeds (public, home, profile, tag): the server renders the first page of cards; this
 * script fetches the next ones from the API (the section's data-api, following next_cursor)
 * when the end of the grid comes into view, or when "Load more" is pressed (which, without
 * this script, is an ordinary link to the next page). It also fades each card's blurhash
 * placeholder out once its image has loaded, and runs a profile's Follow button.
 *
 * User data only ever goes into the page as text (textContent, attributes), never as HTML.
 *
 *   shutterbox.feed.buildCard(image, {sizes, eager}) -> <article> for an ImagePublic
 *   shutterbox.feed.watchImages(root) -> marks .card-media "is-loaded" when its image loads
 */
(function () {
  "use strict";

  const namespace = window.shutterbox || (window.shutterbox = {});
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // <source> formats, best first; the JPEGs are the <img> (as feed_pages.PICTURE_FORMATS).
  const PICTURE_FORMATS = [
    ["avif", "image/avif"],
    ["webp", "image/webp"],
  ];
  const PRELOAD_MARGIN = "800px"; // start fetching this far before the end comes into view

  function apiFetch(url, options) {
    if (typeof namespace.sbFetch === "function") {
      return namespace.sbFetch(url, options);
    }
    return fetch(url, Object.assign({ credentials: "same-origin" }, options || {}));
  }

  // --- cards ------------------------------------------------------------------------------

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== "") {
        node.setAttribute(name, String(value));
      }
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function altOf(image) {
    const alt = (image.alt_text || "").trim();
    const caption = (image.caption || "").trim();
    return alt || caption || "Photo by " + image.owner;
  }

  function variantsOf(image) {
    // The API lists variants smallest first.
    return Object.values(image.variants || {});
  }

  function srcsetOf(image, format) {
    return variantsOf(image)
      .filter((variant) => variant.formats && variant.formats[format])
      .map((variant) => variant.formats[format] + " " + variant.width + "w")
      .join(", ");
  }

  function dateParts(iso) {
    // The API's times are UTC; some have no zone designator.
    const text = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z";
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) {
      return { iso: iso, label: "" };
    }
    return {
      iso: date.toISOString().replace(/\.\d{3}Z$/, "Z"),
      label: date.getUTCDate() + " " + MONTHS[date.getUTCMonth()] + " " + date.getUTCFullYear(),
    };
  }

  function buildCard(image, options) {
    const sizes = (options && options.sizes) || "100vw";
    const eager = Boolean(options && options.eager);
    const variants = variantsOf(image);
    const shown = (image.variants || {}).medium || variants[variants.length - 1];

    const article = element("article", { class: "card", "data-testid": "card", "data-image-id": image.id });
    const media = element("a", {
      class: "card-media",
      href: "/images/" + encodeURIComponent(image.id),
      "data-color": /^#[0-9a-fA-F]{6}$/.test(image.dominant_color || "") ? image.dominant_color : "",
    });
    if (image.blurhash) {
      media.appendChild(
        element("canvas", {
          class: "card-placeholder",
          width: 32,
          height: 32,
          "data-blurhash": image.blurhash,
          "aria-hidden": "true",
        })
      );
    }
    const picture = element("picture");
    for (const [format, type] of PICTURE_FORMATS) {
      const srcset = srcsetOf(image, format);
      if (srcset) {
        picture.appendChild(element("source", { type: type, srcset: srcset, sizes: sizes }));
      }
    }
    const width = shown ? shown.width : image.width;
    const height = shown ? shown.height : image.height;
    const img = element("img", {
      class: "card-img",
      src: shown ? shown.formats.jpeg || shown.url : "",
      srcset: srcsetOf(image, "jpeg"),
      sizes: sizes,
      width: width && height ? width : "",
      height: width && height ? height : "",
      loading: eager ? "eager" : "lazy",
      decoding: "async",
    });
    img.alt = altOf(image); // set even when empty-looking: an <img> always has an alt
    picture.appendChild(img);
    media.appendChild(picture);
    article.appendChild(media);

    const body = element("div", { class: "card-body" });
    if (image.caption) {
      body.appendChild(element("p", { class: "card-caption", "data-testid": "card-caption" }, image.caption));
    }
    const meta = element("p", { class: "card-meta" });
    meta.appendChild(
      element(
        "a",
        { class: "card-owner", href: "/users/" + encodeURIComponent(image.owner), "data-testid": "card-owner" },
        image.owner
      )
    );
    const when = dateParts(image.created_at || "");
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(element("time", { datetime: when.iso }, when.label));
    if (image.visibility && image.visibility !== "public") {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(element("span", { class: "badge", "data-testid": "card-private" }, "Private"));
    }
    body.appendChild(meta);
    if (image.tags && image.tags.length) {
      const list = element("ul", { class: "card-tags", "aria-label": "Tags" });
      for (const tag of image.tags) {
        const item = element("li");
        item.appendChild(
          element("a", { href: "/tags/" + encodeURIComponent(tag), "data-testid": "card-tag" }, "#" + tag)
        );
        list.appendChild(item);
      }
      body.appendChild(list);
    }
    article.appendChild(body);
    return article;
  }

  function watchImages(root) {
    (root || document).querySelectorAll(".card-media").forEach((media) => {
      const img = media.querySelector("img");
      if (!img || media.dataset.watched) {
        return;
      }
      media.dataset.watched = "true";
      const loaded = () => media.classList.add("is-loaded");
      if (img.complete && img.naturalWidth > 0) {
        loaded();
      } else {
        img.addEventListener("load", loaded, { once: true });
      }
    });
  }

  function paint(root) {
    if (namespace.blurhash) {
      namespace.blurhash.paint(root);
    }
    watchImages(root);
  }

  namespace.feed = { buildCard: buildCard, watchImages: watchImages };

  // --- infinite scroll --------------------------------------------------------------------

  function initFeed(section) {
    const grid = section.querySelector(".card-grid");
    const sentinel = section.querySelector("[data-feed-sentinel]");
    const more = section.querySelector("[data-feed-more]");
    const status = section.querySelector("[data-feed-status]");
    const end = section.querySelector("[data-feed-end]");
    const api = section.dataset.api;
    const limit = section.dataset.limit;
    const sizes = section.dataset.sizes;
    let cursor = section.dataset.nextCursor || "";
    let loading = false;
    let failed = false;
    let focusNew = false; // "Load more" was pressed: move focus to the first new photo
    let observer = null;

    paint(section);
    section.dataset.pages = "1";
    section.dataset.state = cursor ? "more" : "end";
    if (!grid || !api || !cursor) {
      return;
    }

    function nextPageHref() {
      const query = new URLSearchParams(window.location.search);
      query.set("cursor", cursor);
      return window.location.pathname + "?" + query.toString();
    }

    function finish() {
      section.dataset.state = "end";
      if (more) {
        more.hidden = true;
      }
      if (end && grid.children.length) {
        end.hidden = false;
      }
      if (observer) {
        observer.disconnect();
      }
    }

    function sentinelNearView() {
      if (!sentinel) {
        return false;
      }
      const box = sentinel.getBoundingClientRect();
      return box.top < window.innerHeight + parseInt(PRELOAD_MARGIN, 10);
    }

    async function loadMore(byHand) {
      if (byHand) {
        focusNew = true;
      }
      if (loading || !cursor || (failed && !byHand)) {
        return;
      }
      loading = true;
      failed = false;
      section.dataset.state = "loading";
      grid.setAttribute("aria-busy", "true");
      if (status) {
        status.textContent = "Loading more photos…";
      }
      let added = [];
      try {
        const query = new URLSearchParams({ limit: limit, cursor: cursor });
        const response = await apiFetch(api + "?" + query.toString());
        if (!response.ok) {
          throw new Error("the server answered " + response.status);
        }
        const page = await response.json();
        const known = new Set(Array.from(grid.children, (card) => card.dataset.imageId));
        for (const image of page.items || []) {
          if (known.has(image.id)) {
            continue;
          }
          const card = buildCard(image, { sizes: sizes, eager: false });
          grid.appendChild(card);
          paint(card);
          added.push(card);
        }
        cursor = page.next_cursor || "";
        section.dataset.nextCursor = cursor;
        section.dataset.pages = String(Number(section.dataset.pages) + 1);
        if (status) {
          status.textContent =
            added.length === 1 ? "1 more photo loaded." : added.length + " more photos loaded.";
        }
        if (cursor) {
          section.dataset.state = "more";
          if (more) {
            more.href = nextPageHref();
          }
        } else {
          finish();
        }
      } catch (error) {
        failed = true;
        section.dataset.state = "error";
        if (status) {
          status.textContent = "Could not load more photos. Press “Load more” to try again.";
        }
      } finally {
        loading = false;
        grid.setAttribute("aria-busy", "false");
      }
      if (focusNew && added.length) {
        // Keyboard users continue from the first new photo.
        focusNew = false;
        const link = added[0].querySelector("a");
        if (link) {
          link.focus();
        }
      }
      if (observer && !failed && cursor && sentinelNearView()) {
        // Still at the end (a short page, a tall screen): the observer will not fire again.
        window.requestAnimationFrame(() => loadMore(false));
      }
    }

    if (more) {
      more.addEventListener("click", (event) => {
        event.preventDefault();
        loadMore(true);
      });
    }
    if ("IntersectionObserver" in window && sentinel) {
      observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((entry) => entry.isIntersecting)) {
            loadMore(false);
          }
        },
        { rootMargin: "0px 0px " + PRELOAD_MARGIN + " 0px" }
      );
      observer.observe(sentinel);
    }
  }

  // --- following --------------------------------------------------------------------------

  function initFollow(button) {
    const username = button.dataset.username;
    const head = button.closest("[data-profile]") || document;
    const status = head.querySelector("[data-follow-status]");
    const base = "/api/v1/users/" + encodeURIComponent(username);
    let busy = false;

    function show(following) {
      button.dataset.following = following ? "true" : "false";
      button.textContent = following ? "Unfollow" : "Follow";
    }

    async function refreshCounts() {
      const response = await apiFetch(base);
      if (!response.ok) {
        return;
      }
      const profile = await response.json();
      for (const name of ["images", "followers", "following"]) {
        const count = head.querySelector('[data-count="' + name + '"]');
        if (count && typeof profile[name] === "number") {
          count.textContent = String(profile[name]);
        }
      }
      if (typeof profile.followed_by_you === "boolean") {
        show(profile.followed_by_you);
      }
    }

    button.addEventListener("click", async () => {
      if (busy) {
        return;
      }
      busy = true;
      button.setAttribute("aria-busy", "true");
      const following = button.dataset.following === "true";
      try {
        const response = await apiFetch(base + "/follow", { method: following ? "DELETE" : "PUT" });
        if (response.status !== 204) {
          throw new Error("the server answered " + response.status);
        }
        show(!following);
        await refreshCounts();
        if (status) {
          status.textContent = following
            ? "You no longer follow " + username + "."
            : "You follow " + username + ": their photos are on your home page.";
        }
      } catch (error) {
        if (status) {
          status.textContent = following
            ? "Could not unfollow " + username + ". Try again."
            : "Could not follow " + username + ". Try again.";
        }
      } finally {
        busy = false;
        button.removeAttribute("aria-busy");
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-feed]").forEach(initFeed);
    document.querySelectorAll("[data-follow]").forEach(initFollow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
