/*
 * Albums and share links on the pages. On someone's albums page (their own): the new-album
 * form (POST /api/v1/albums, then to the album's page). On an album page (its owner): the
 * edit form (PATCH), Delete (with a confirmation), and per photo Move earlier (PUT .../order,
 * one move), Make cover and Remove. On the owner's image page: Add to album (PUT
 * /api/v1/albums/{id}/images/{image}). Everywhere: the share dialog (POST /api/v1/shares),
 * which shows the link with a Copy button. Everything user-supplied is set with textContent;
 * requests go through lib/api.js (the session cookie and its CSRF token).
 */
import { apiFetch, fetchJSON, problem } from "./lib/api.js";

function byId(id) {
  return document.getElementById(id);
}

function say(element, text, isError) {
  if (!element) {
    return;
  }
  element.textContent = text;
  element.classList.toggle("error", Boolean(isError));
}

async function send(method, url, body) {
  const options = { method: method };
  if (body !== undefined) {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body);
  }
  const response = await apiFetch(url, options);
  if (!response.ok) {
    throw new Error(await problem(response));
  }
  return response;
}

function formValues(form) {
  const data = new FormData(form);
  return {
    title: String(data.get("title") || "").trim(),
    description: String(data.get("description") || ""),
    visibility: String(data.get("visibility") || "public"),
  };
}

function startCreateForm() {
  const form = byId("album-create-form");
  if (!form) {
    return;
  }
  const status = byId("album-create-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (!values.title) {
      say(status, "An album needs a title.", true);
      byId("album-title").focus();
      return;
    }
    say(status, "Creating…");
    try {
      const album = await (await send("POST", "/api/v1/albums", values)).json();
      window.location.assign("/albums/" + encodeURIComponent(album.id));
    } catch (error) {
      say(status, "Not created: " + error.message, true);
    }
  });
}

function startAlbumPage() {
  const root = byId("album-page");
  if (!root || root.dataset.owner !== "true") {
    return;
  }
  const albumUrl = "/api/v1/albums/" + encodeURIComponent(root.dataset.albumId);
  const status = byId("album-edit-status");
  const announcer = byId("album-announcer");
  const form = byId("album-edit-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (!values.title) {
      say(status, "An album needs a title.", true);
      return;
    }
    say(status, "Saving…");
    try {
      const album = await (await send("PATCH", albumUrl, values)).json();
      document.querySelector('[data-testid="album-heading"]').textContent = album.title;
      say(status, "Saved.");
    } catch (error) {
      say(status, "Not saved: " + error.message, true);
    }
  });
  byId("album-delete").addEventListener("click", async () => {
    if (!window.confirm("Delete this album? Its photos stay where they are; its links stop working.")) {
      return;
    }
    try {
      await send("DELETE", albumUrl);
      window.location.assign("/users/" + encodeURIComponent(document.querySelector('[data-testid="account-name"]').textContent) + "/albums");
    } catch (error) {
      say(status, "Not deleted: " + error.message, true);
    }
  });
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) {
      return;
    }
    const entry = button.closest(".album-entry");
    try {
      if (button.dataset.moveEarlier) {
        const previous = entry.previousElementSibling;
        if (!previous) {
          return;
        }
        await send("PUT", albumUrl + "/order", { move: button.dataset.moveEarlier, before: previous.dataset.imageId });
        entry.parentNode.insertBefore(entry, previous);
        entry.parentNode.querySelectorAll("[data-move-earlier]").forEach((b, n) => {
          b.disabled = n === 0;
        });
        button.focus();
        announcer.textContent = "Moved earlier.";
      } else if (button.dataset.setCover) {
        await send("PATCH", albumUrl, { cover_image_id: button.dataset.setCover });
        announcer.textContent = "This photo is the album's cover now.";
        say(status, "Cover changed.");
      } else if (button.dataset.removeImage) {
        await send("DELETE", albumUrl + "/images/" + encodeURIComponent(button.dataset.removeImage));
        entry.remove();
        announcer.textContent = "Removed from the album.";
      }
    } catch (error) {
      say(status, error.message, true);
    }
  });
}

async function startAlbumPicker() {
  const picker = byId("album-picker");
  if (!picker) {
    return;
  }
  const choice = byId("album-choice");
  const status = byId("album-picker-status");
  const owner = encodeURIComponent(picker.dataset.ownerName);
  try {
    const page = await fetchJSON("/api/v1/users/" + owner + "/albums?limit=100");
    choice.textContent = "";
    if (!page.items.length) {
      const none = document.createElement("option");
      none.value = "";
      none.textContent = "No albums yet";
      choice.appendChild(none);
    }
    for (const album of page.items) {
      const option = document.createElement("option");
      option.value = album.id;
      option.textContent = album.title;
      choice.appendChild(option);
    }
  } catch (error) {
    say(status, "Your albums could not be read: " + error.message, true);
  }
  byId("add-to-album-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!choice.value) {
      say(status, "Make an album first, on your albums page.", true);
      return;
    }
    try {
      const url = "/api/v1/albums/" + encodeURIComponent(choice.value) + "/images/" + encodeURIComponent(picker.dataset.imageId);
      await send("PUT", url);
      say(status, "Added to “" + choice.options[choice.selectedIndex].textContent + "”.");
    } catch (error) {
      say(status, "Not added: " + error.message, true);
    }
  });
}

function startShareDialog() {
  const dialog = byId("share-dialog");
  if (!dialog) {
    return;
  }
  const form = byId("share-form");
  const status = byId("share-status");
  const result = byId("share-result");
  const urlField = byId("share-url");
  let target = {};
  let opener = null;
  document.querySelectorAll("[data-share-open]").forEach((button) => {
    button.addEventListener("click", () => {
      target = button.dataset.shareAlbum ? { album_id: button.dataset.shareAlbum } : { image_id: button.dataset.shareImage };
      opener = button;
      result.hidden = true;
      say(status, "");
      dialog.showModal();
    });
  });
  byId("share-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opener) {
      opener.focus();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = Object.assign({ hide_details: data.get("hide_details") === "on" }, target);
    const days = Number(data.get("expiry") || 0);
    if (days > 0) {
      body.expires_at = new Date(Date.now() + days * 86400000).toISOString();
    }
    const password = String(data.get("password") || "");
    if (password) {
      body.password = password;
    }
    say(status, "Making the link…");
    try {
      const made = await (await send("POST", "/api/v1/shares", body)).json();
      urlField.value = new URL(made.url, window.location.origin).href;
      result.hidden = false;
      urlField.focus();
      urlField.select();
      say(status, "Here is the link. It is shown this once: copy it now.");
    } catch (error) {
      say(status, "No link made: " + error.message, true);
    }
  });
  byId("share-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(urlField.value);
      say(status, "Copied.");
    } catch (ignored) {
      urlField.select();
      say(status, "Select the link and copy it (Ctrl+C or ⌘C).");
    }
  });
}

startCreateForm();
startAlbumPage();
startAlbumPicker();
startShareDialog();
