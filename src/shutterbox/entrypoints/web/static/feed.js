/*
 * The feeds (public, home, profile, tag): the server renders the first page of cards; this
 * script fetches the next ones when the end of the grid comes into view, or when "Load more"
 * is pressed (which, without this script, is an ordinary link to the next page). The next
 * cards come from the server as HTML (the section's data-fragments, the same
 * _image_card.html as the first page) with the cursor after them in X-Next-Cursor; the
 * script appends them, skipping any already shown. It also fades each card's blurhash
 * placeholder out once its image has loaded, and runs a profile's Follow button.
 *
 * User data only ever goes into the page as text (textContent), or in the server's escaped
 * markup.
 */
import * as blurhash from "./blurhash.js";
import { apiFetch, fetchHTML } from "./lib/api.js";

const PRELOAD_MARGIN = "800px"; // start fetching this far before the end comes into view

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
  blurhash.paint(root);
  watchImages(root);
}

// --- infinite scroll --------------------------------------------------------------------

function initFeed(section) {
  const grid = section.querySelector(".card-grid");
  const sentinel = section.querySelector("[data-feed-sentinel]");
  const more = section.querySelector("[data-feed-more]");
  const status = section.querySelector("[data-feed-status]");
  const end = section.querySelector("[data-feed-end]");
  const fragments = section.dataset.fragments;
  const limit = section.dataset.limit;
  let cursor = section.dataset.nextCursor || "";
  let loading = false;
  let failed = false;
  let focusNew = false; // "Load more" was pressed: move focus to the first new photo
  let observer = null;

  paint(section);
  section.dataset.pages = "1";
  section.dataset.state = cursor ? "more" : "end";
  if (!grid || !fragments || !cursor) {
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
    const added = [];
    try {
      const query = new URLSearchParams({ limit: limit, cursor: cursor });
      const { fragment, response } = await fetchHTML(fragments + "?" + query.toString());
      const known = new Set(Array.from(grid.children, (card) => card.dataset.imageId));
      for (const card of Array.from(fragment.querySelectorAll("[data-testid=card]"))) {
        if (known.has(card.dataset.imageId)) {
          continue;
        }
        known.add(card.dataset.imageId);
        grid.appendChild(card);
        paint(card);
        added.push(card);
      }
      cursor = response.headers.get("X-Next-Cursor") || "";
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
