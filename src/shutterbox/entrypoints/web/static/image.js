/*
 * The page of one image. For everyone: a tall photo is kept within the screen's height. For
 * its owner: the edit form is saved with PATCH /api/v1/images/{id} (no reload), Delete asks
 * first (a <dialog>) and then offers Undo (POST .../restore), "Download original" says so
 * when an archived original has to be restored first (202 + Retry-After), a failed photo can
 * be processed again (POST .../retry), and a photo still processing is shown once the event
 * stream (GET /api/v1/events) says it is ready. Everything user-supplied is set with
 * textContent; requests go through lib/api.js (the session cookie and its CSRF token).
 */
import { apiFetch, problem } from "./lib/api.js";

function start() {
  const root = document.getElementById("image-page");
  if (!root) {
    return;
  }

  const IMAGE_ID = root.dataset.imageId;
  const IMAGE_URL = root.dataset.imageUrl;
  const IS_OWNER = root.dataset.owner === "true";
  const announcer = document.getElementById("image-announcer");

  function byId(id) {
    return document.getElementById(id);
  }

  function announce(text) {
    announcer.textContent = text;
  }

  function say(element, text, isError) {
    if (!element) {
      return;
    }
    element.textContent = text;
    element.classList.toggle("error", Boolean(isError));
  }

  // --- the photo: never taller than the screen ----------------------------------------------

  const frame = byId("photo-frame");
  if (frame) {
    const width = Number(frame.dataset.width);
    const height = Number(frame.dataset.height);
    if (width > 0 && height > 0) {
      // CSSOM, not a style attribute: allowed by the style-src policy.
      frame.style.maxWidth = "calc(" + (85 * width) / height + "vh)";
    }
    const photo = byId("photo");
    const loaded = () => frame.classList.add("is-loaded");
    if (photo.complete && photo.naturalWidth) {
      loaded();
    } else {
      photo.addEventListener("load", loaded);
    }
  }

  // --- shown again with the server's answer --------------------------------------------------

  function showDetails(image) {
    const caption = document.querySelector('[data-testid="caption"]');
    caption.textContent = image.caption || "";
    caption.hidden = !image.caption;

    const tags = document.querySelector('[data-testid="tags"]');
    tags.replaceChildren();
    for (const tag of image.tags || []) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/tags/" + encodeURIComponent(tag);
      link.textContent = "#" + tag;
      item.appendChild(link);
      tags.appendChild(item);
    }
    tags.hidden = !(image.tags && image.tags.length);

    const photo = byId("photo");
    if (photo) {
      // As the server does: the description, else the caption, else whose photo it is.
      photo.alt = (image.alt_text || "").trim() || (image.caption || "").trim() || "Photo by " + image.owner;
    }
    const visibility = document.querySelector('[data-testid="visibility"]');
    if (visibility) {
      visibility.textContent = image.visibility === "public" ? "Everyone" : "Only you";
    }
    const title = document.title.split(" · ");
    const suffix = title.length > 1 ? " · " + title[title.length - 1] : "";
    const name = image.caption ? image.caption : "Photo by " + image.owner;
    document.title = (name.length > 60 ? name.slice(0, 59) + "…" : name) + suffix;
  }

  // --- editing ------------------------------------------------------------------------------

  const form = byId("edit-form");
  if (form) {
    const status = byId("edit-status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      say(status, "Saving…");
      const body = {
        caption: byId("edit-caption").value.trim(),
        alt_text: byId("edit-alt-text").value.trim(),
        tags: byId("edit-tags").value,
        visibility: byId("edit-visibility").value,
      };
      try {
        const response = await apiFetch(IMAGE_URL, {
          method: "PATCH",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        if (!response.ok) {
          say(status, "Not saved: " + (await problem(response)), true);
          return;
        }
        const image = await response.json();
        showDetails(image);
        byId("edit-caption").value = image.caption || "";
        byId("edit-alt-text").value = image.alt_text || "";
        byId("edit-tags").value = (image.tags || []).join(", ");
        byId("edit-visibility").value = image.visibility;
        say(status, "Saved.");
      } catch (error) {
        say(status, "Not saved: the server could not be reached. Try again.", true);
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- deleting, and undoing it --------------------------------------------------------------

  const dialog = byId("delete-dialog");
  const deleteButton = byId("delete-button");
  const view = byId("image-view");
  const notice = byId("deleted-notice");
  if (dialog && deleteButton) {
    deleteButton.addEventListener("click", () => {
      dialog.returnValue = "";
      dialog.showModal();
    });
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "delete") {
        deleteButton.focus();
        return;
      }
      deleteButton.disabled = true;
      try {
        const response = await apiFetch(IMAGE_URL, { method: "DELETE" });
        if (response.status !== 204 && response.status !== 404) {
          say(byId("edit-status"), "Not deleted: " + (await problem(response)), true);
          deleteButton.focus();
          return;
        }
        view.hidden = true;
        say(byId("undo-status"), "");
        notice.hidden = false;
        root.dataset.deleted = "true";
        announce("Deleted.");
        byId("undo-delete").focus();
      } catch (error) {
        say(byId("edit-status"), "Not deleted: the server could not be reached.", true);
      } finally {
        deleteButton.disabled = false;
      }
    });
    byId("undo-delete").addEventListener("click", async () => {
      const undo = byId("undo-delete");
      undo.disabled = true;
      try {
        const response = await apiFetch(IMAGE_URL + "/restore", { method: "POST" });
        if (!response.ok) {
          say(byId("undo-status"), "Could not undo: " + (await problem(response)), true);
          return;
        }
        showDetails(await response.json());
        notice.hidden = true;
        view.hidden = false;
        root.dataset.deleted = "false";
        say(byId("edit-status"), "");
        announce("Brought back.");
        deleteButton.focus();
      } catch (error) {
        say(byId("undo-status"), "Could not undo: the server could not be reached.", true);
      } finally {
        undo.disabled = false;
      }
    });
  }

  // --- the original --------------------------------------------------------------------------

  function minutes(seconds) {
    const count = Math.max(1, Math.ceil(seconds / 60));
    return count === 1 ? "a minute" : count + " minutes";
  }

  const download = byId("download-original");
  if (download) {
    const status = byId("download-status");
    let checked = false;
    download.addEventListener("click", async (event) => {
      if (checked) {
        checked = false;
        return; // asked a moment ago: the original is there; let the browser download it
      }
      event.preventDefault();
      say(status, "Getting the original…");
      try {
        // HEAD: whether the bytes can be had now, without downloading them twice.
        const response = await apiFetch(download.href, { method: "HEAD", headers: { Accept: "*/*" } });
        if (response.status === 202) {
          const wait = Number(response.headers.get("Retry-After")) || 900;
          say(status, "The original is archived; a restore has started — try again in " + minutes(wait) + ".");
          return;
        }
        if (!response.ok) {
          say(status, "The original cannot be downloaded: the server answered " + response.status + ".", true);
          return;
        }
        say(status, "");
        checked = true;
        download.click();
      } catch (error) {
        say(status, "The original cannot be downloaded: the server could not be reached.", true);
      }
    });
  }

  // --- processing: retry a failure, show the photo once it is ready -------------------------

  const retry = byId("retry-processing");
  if (retry) {
    retry.disabled = false; // rendered disabled: it does nothing until this script runs
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      const status = byId("pending-status");
      try {
        const response = await apiFetch(IMAGE_URL + "/retry", { method: "POST" });
        if (!response.ok) {
          say(status, "Could not try again: " + (await problem(response)), true);
          retry.disabled = false;
          return;
        }
        say(status, "Processing again; the page shows the photo as soon as it is ready.");
        root.dataset.status = "processing";
        follow();
      } catch (error) {
        say(status, "Could not try again: the server could not be reached.", true);
        retry.disabled = false;
      }
    });
  }

  let events = null;
  function follow() {
    if (events || !IS_OWNER || typeof window.EventSource !== "function") {
      return;
    }
    events = new EventSource(root.dataset.eventsUrl);
    events.addEventListener("image", (message) => {
      let update = null;
      try {
        update = JSON.parse(message.data);
      } catch (ignored) {
        return;
      }
      if (!update || update.id !== IMAGE_ID || update.status === root.dataset.status) {
        return;
      }
      if (update.status === "ready" || update.status === "failed") {
        events.close();
        window.location.reload(); // the server renders the photo (or the reason) in full
      }
    });
  }

  if (root.dataset.status === "processing") {
    follow();
  }
}

start();
