/*
 * The upload page. Photos are chosen with the file input or dropped on the zone; each gets a
 * row (its name, a preview, a progress bar, its status). "Upload" sends them, at most three
 * at a time, as resumable uploads (the tus protocol, /api/v1/tus/): a dropped connection is
 * retried from the server's offset, a photo can be paused and resumed, and after a reload the
 * same photo chosen again goes on where it stopped. A photo refused by the server (not a
 * picture, too large ...) shows why and never stops the others. Once uploaded, a photo is processed in the background: GET /api/v1/events
 * (server-sent events) says when it turns ready or fails, and the row follows without a
 * reload. A failed photo can be retried (POST /api/v1/images/{id}/retry).
 *
 * Row states (data-state): queued → waiting → uploading (⇄ paused) → processing → ready |
 * failed, or rejected (the server refused the file), or error (the connection stayed down
 * through every retry: "Retry" goes on from the server's offset, so it is never stored
 * twice).
 * Everything user-supplied is put on the page with textContent.
 */
import { apiFetch, csrfToken, problem } from "./lib/api.js";

function start() {
  const form = document.getElementById("upload-form");
  if (!form) {
    return;
  }

  const input = document.getElementById("file-input");
  const zone = document.getElementById("drop-zone");
  const list = document.getElementById("upload-list");
  const summary = document.getElementById("upload-summary");
  const announcer = document.getElementById("upload-announcer");
  const startButton = document.getElementById("upload-start");
  const rowTemplate = document.getElementById("upload-row-template");
  const fields = {
    caption: document.getElementById("caption"),
    altText: document.getElementById("alt-text"),
    tags: document.getElementById("tags"),
    location: document.getElementById("location"),
    visibility: document.getElementById("visibility"),
  };

  const TUS_URL = form.dataset.tusUrl;
  const CHUNK_BYTES = Number(form.dataset.chunkBytes) || 8 * 1024 * 1024;
  const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
  const EVENTS_URL = form.dataset.eventsUrl;
  const MAX_BYTES = Number(form.dataset.maxBytes) || Infinity;
  const MAX_MB = form.dataset.maxMb;
  const CONCURRENCY = Number(form.dataset.concurrency) || 3;
  const POLL_MS = 3000;
  const EARLY_EVENTS_KEPT = 200;

  const rows = [];
  const byId = new Map(); // image id → row
  const early = new Map(); // image id → an event that came before the upload's own answer
  let sending = 0;
  let events = null;
  let pollTimer = null;
  let serial = 0;

  const MESSAGES = {
    queued: "Ready to upload",
    waiting: "Waiting for its turn…",
    uploading: "Uploading…",
    paused: "Paused: resume it when you like",
    processing: "Uploaded — processing…",
    ready: "Ready",
  };

  // --- small helpers ---------------------------------------------------------------------

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  function announce(text) {
    const line = document.createElement("p");
    line.textContent = text;
    announcer.appendChild(line);
    while (announcer.childElementCount > 10) {
      announcer.firstElementChild.remove();
    }
  }

  // --- rows --------------------------------------------------------------------------------

  function part(row, selector) {
    return row.element.querySelector(selector);
  }

  function setPreview(row, url, revokable) {
    const img = part(row, ".upload-thumb img");
    if (row.previewUrl) {
      URL.revokeObjectURL(row.previewUrl);
      row.previewUrl = null;
    }
    if (revokable) {
      row.previewUrl = url;
    }
    img.hidden = false;
    img.src = url;
  }

  function setState(row, state, message) {
    const changed = row.state !== state || row.message !== message;
    row.state = state;
    row.message = message || MESSAGES[state] || "";
    row.element.dataset.state = state;
    part(row, ".upload-status").textContent = row.message;
    part(row, ".upload-status").classList.toggle("error", state === "failed" || state === "rejected" || state === "error");
    part(row, ".upload-retry").hidden = state !== "failed" && state !== "error";
    part(row, ".upload-remove").hidden = state !== "queued";
    part(row, ".upload-pause").hidden = state !== "uploading";
    part(row, ".upload-resume").hidden = state !== "paused";
    const editable = state === "queued";
    part(row, ".upload-own-caption").disabled = !editable;
    part(row, ".upload-own-alt").disabled = !editable;
    const view = part(row, ".upload-view");
    view.hidden = !row.imageId || state === "rejected";
    if (row.imageId) {
      view.href = "/images/" + encodeURIComponent(row.imageId);
    }
    if (changed && state !== "queued") {
      announce(row.file.name + ": " + row.message);
    }
    refresh();
  }

  function refresh() {
    const counts = {};
    for (const row of rows) {
      counts[row.state] = (counts[row.state] || 0) + 1;
    }
    const queued = counts.queued || 0;
    startButton.disabled = queued === 0;
    startButton.textContent = queued ? "Upload " + plural(queued, "photo", "photos") : "Upload";
    if (!rows.length) {
      summary.textContent = "No photos chosen yet.";
      return;
    }
    const parts = [];
    const words = [
      ["queued", "to upload"],
      ["waiting", "waiting"],
      ["uploading", "uploading"],
      ["paused", "paused"],
      ["processing", "processing"],
      ["ready", "ready"],
      ["failed", "failed"],
      ["rejected", "refused"],
      ["error", "interrupted"],
    ];
    for (const [state, word] of words) {
      if (counts[state]) {
        parts.push(counts[state] + " " + word);
      }
    }
    summary.textContent = plural(rows.length, "photo", "photos") + ": " + parts.join(", ") + ".";
  }

  function addFiles(files) {
    for (const file of files) {
      const element = rowTemplate.content.firstElementChild.cloneNode(true);
      serial += 1;
      const row = {
        file: file,
        element: element,
        state: "",
        message: "",
        imageId: null,
        previewUrl: null,
      };
      element.dataset.testid = "upload-row";
      element.dataset.name = file.name;
      element.querySelector(".upload-name").textContent = file.name;
      const progress = element.querySelector(".upload-progress");
      progress.id = "upload-progress-" + serial;
      progress.setAttribute("aria-label", "Upload of " + file.name);
      const img = element.querySelector(".upload-thumb img");
      img.hidden = true;
      img.addEventListener("error", () => {
        img.hidden = true; // a file the browser cannot show (HEIC, not a picture ...)
      });
      if (file.type.startsWith("image/")) {
        setPreview(row, URL.createObjectURL(file), true);
      }
      element.querySelector(".upload-retry").addEventListener("click", () => retry(row));
      element.querySelector(".upload-remove").addEventListener("click", () => remove(row));
      element.querySelector(".upload-pause").addEventListener("click", () => pause(row));
      element.querySelector(".upload-resume").addEventListener("click", () => resume(row));
      rows.push(row);
      list.appendChild(element);
      if (file.size > MAX_BYTES) {
        setState(row, "rejected", "Not uploaded: the file is larger than the limit of " + MAX_MB + " MB");
      } else {
        setState(row, "queued");
      }
    }
    if (files.length) {
      announce(plural(files.length, "photo", "photos") + " added");
    }
  }

  function remove(row) {
    const index = rows.indexOf(row);
    if (index >= 0) {
      rows.splice(index, 1);
    }
    if (row.previewUrl) {
      URL.revokeObjectURL(row.previewUrl);
    }
    row.element.remove();
    announce(row.file.name + " removed");
    refresh();
    zone.focus();
  }

  // --- sending -----------------------------------------------------------------------------

  function batchValues() {
    return {
      caption: fields.caption.value.trim(),
      altText: fields.altText.value.trim(),
      tags: fields.tags.value.trim(),
      location: fields.location.value.trim(),
      visibility: fields.visibility.value,
    };
  }

  function start() {
    const batch = batchValues();
    for (const row of rows) {
      if (row.state === "queued") {
        row.values = Object.assign({}, batch, {
          caption: part(row, ".upload-own-caption").value.trim() || batch.caption,
          altText: part(row, ".upload-own-alt").value.trim() || batch.altText,
        });
        setState(row, "waiting");
      }
    }
    listen();
    pump();
  }

  function pump() {
    while (sending < CONCURRENCY) {
      const next = rows.find((row) => row.state === "waiting");
      if (!next) {
        return;
      }
      send(next);
    }
  }

  // Each photo goes up with the tus protocol (tus-js-client, vendored): in parts of
  // CHUNK_BYTES, each sent again from the server's offset after a dropped connection, and a
  // photo chosen again after a reload goes on where it stopped (the client remembers the
  // upload's URL in localStorage, under the file's name, size and date).
  function metadataOf(row) {
    const values = row.values;
    const metadata = { filename: row.file.name, filetype: row.file.type || "application/octet-stream" };
    for (const [name, value] of [
      ["caption", values.caption],
      ["alt_text", values.altText],
      ["tags", values.tags],
      ["location", values.location],
      ["visibility", values.visibility],
    ]) {
      if (value) {
        metadata[name] = value;
      }
    }
    return metadata;
  }

  function send(row) {
    sending += 1;
    const progress = part(row, ".upload-progress");
    progress.max = Math.max(1, row.file.size);
    progress.value = 0;
    setState(row, "uploading");
    let done = false;
    function finish() {
      if (!done) {
        done = true;
        sending -= 1;
        row.upload = null;
        pump();
      }
    }
    const upload = new window.tus.Upload(row.file, {
      endpoint: TUS_URL,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS_MS,
      metadata: metadataOf(row),
      headers: { "X-CSRF-Token": csrfToken() },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress(sent, total) {
        progress.max = Math.max(1, total);
        progress.value = sent;
      },
      async onSuccess() {
        await finished(row, upload.url);
        finish();
      },
      onError(error) {
        const response = error && error.originalResponse;
        const status = response ? response.getStatus() : 0;
        let body = null;
        try {
          body = response ? JSON.parse(response.getBody()) : null;
        } catch (ignored) {
          body = null;
        }
        answered(row, status, body);
        finish();
      },
    });
    row.upload = upload;
    row.finish = finish;
    upload.findPreviousUploads().then((previous) => {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
      }
      if (row.upload === upload && row.state === "uploading") {
        upload.start();
      }
    });
  }

  // Every byte is there: ask the upload (GET on its URL) for the image it made.
  async function finished(row, url) {
    try {
      const response = await apiFetch(new URL(url, window.location.href).pathname, {
        headers: { Accept: "application/json" },
      });
      const body = await response.json().catch(() => null);
      if (response.ok && body && body.image) {
        answered(row, 201, body.image);
      } else {
        answered(row, response.status, body);
      }
    } catch (ignored) {
      setState(row, "error", "The upload was interrupted: check the connection, then retry");
    }
  }

  function pause(row) {
    if (row.upload && row.state === "uploading") {
      row.upload.abort();
      setState(row, "paused");
    }
  }

  function resume(row) {
    if (row.upload && row.state === "paused") {
      setState(row, "uploading");
      row.upload.start();
    }
  }

  // The server is busy: the photo is safe, its sizes wait their turn; say for how long.
  function busyMessage(estimate) {
    const seconds = estimate.expected_seconds;
    if (seconds === null || seconds === undefined) {
      return "Uploaded — safe; waiting for the server to make its sizes";
    }
    const wait = seconds < 90 ? seconds + " s" : Math.round(seconds / 60) + " min";
    return "Uploaded — safe; the server is busy: ready in about " + wait;
  }

  function answered(row, status, body) {
    if ((status === 200 || status === 201) && body && body.id) {
      row.imageId = body.id;
      row.element.dataset.imageId = body.id;
      byId.set(body.id, row);
      row.duplicate = status === 200;
      const thumb = body.variants && body.variants.thumb;
      apply(row, {
        status: body.status,
        failure_reason: body.failure_reason,
        thumb_url: thumb ? thumb.url : null,
      });
      const pending = early.get(body.id);
      if (pending) {
        early.delete(body.id);
        apply(row, pending);
      }
      if (body.processing_estimate && row.state === "processing") {
        setState(row, "processing", busyMessage(body.processing_estimate));
      }
      watch();
      return;
    }
    const detail = body && typeof body.detail === "string" ? body.detail : null;
    if (status === 401) {
      setState(row, "rejected", "Not uploaded: you are no longer logged in; log in again and upload it once more");
    } else if (status >= 400 && status < 500) {
      setState(row, "rejected", "Not uploaded: " + (detail || "the server refused it (" + status + ")"));
    } else if (status) {
      setState(row, "error", "The server could not take it (" + status + "): retry in a moment");
    } else {
      setState(row, "error", "The upload was interrupted: check the connection, then retry");
    }
  }

  // --- processing status: the event stream, or polling when there is none -----------------

  function apply(row, update) {
    if (update.thumb_url) {
      setPreview(row, update.thumb_url, false);
    }
    if (update.status === "ready") {
      setState(row, "ready", row.duplicate ? "Ready (you had uploaded this photo before)" : "Ready");
    } else if (update.status === "failed") {
      setState(row, "failed", "Failed: " + (update.failure_reason || "the photo could not be processed"));
    } else if (update.status === "processing" && row.state !== "processing") {
      // A row already processing keeps what it says (such as how long a busy server takes).
      setState(row, "processing");
    }
  }

  function onEvent(message) {
    let update;
    try {
      update = JSON.parse(message.data);
    } catch (ignored) {
      return;
    }
    if (!update || !update.id) {
      return;
    }
    const row = byId.get(update.id);
    if (row) {
      apply(row, update);
      return;
    }
    early.set(update.id, update);
    if (early.size > EARLY_EVENTS_KEPT) {
      early.delete(early.keys().next().value);
    }
  }

  function listen() {
    if (events || typeof window.EventSource !== "function") {
      if (!events) {
        list.dataset.live = "polling";
      }
      return;
    }
    events = new EventSource(EVENTS_URL);
    events.addEventListener("open", () => {
      list.dataset.live = "events";
    });
    events.addEventListener("image", onEvent);
    events.addEventListener("error", () => {
      // EventSource reconnects by itself (and is sent the current state again); only a
      // stream the server refused is closed for good.
      if (events.readyState === EventSource.CLOSED) {
        list.dataset.live = "polling";
        watch();
      }
    });
  }

  function watch() {
    if (list.dataset.live !== "polling" || pollTimer !== null) {
      return;
    }
    pollTimer = window.setTimeout(poll, POLL_MS);
  }

  async function poll() {
    pollTimer = null;
    const waiting = rows.filter((row) => row.state === "processing" && row.imageId);
    for (const row of waiting) {
      try {
        const response = await apiFetch("/api/v1/images/" + encodeURIComponent(row.imageId), {
          headers: { Accept: "application/json" },
        });
        if (response.ok) {
          const body = await response.json();
          const thumb = body.variants && body.variants.thumb;
          apply(row, { status: body.status, failure_reason: body.failure_reason, thumb_url: thumb ? thumb.url : null });
        }
      } catch (ignored) {
        // the next round tries again
      }
    }
    if (rows.some((row) => row.state === "processing")) {
      watch();
    }
  }

  async function retry(row) {
    if (row.state === "error") {
      setState(row, "waiting");
      pump();
      return;
    }
    const button = part(row, ".upload-retry");
    button.disabled = true;
    try {
      const response = await apiFetch(
        "/api/v1/images/" + encodeURIComponent(row.imageId) + "/retry",
        { method: "POST", headers: { Accept: "application/json" } }
      );
      if (response.ok) {
        setState(row, "processing", "Trying again — processing…");
        listen();
        watch();
      } else {
        setState(row, "failed", row.message + " (retry refused: " + (await problem(response)) + ")");
      }
    } catch (ignored) {
      setState(row, "failed", row.message + " (retry did not reach the server)");
    } finally {
      button.disabled = false;
    }
  }

  // --- choosing and dropping ---------------------------------------------------------------

  function hasFiles(event) {
    return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes("Files");
  }

  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });
  input.addEventListener("change", () => {
    addFiles(Array.from(input.files || []));
    input.value = "";
  });
  for (const kind of ["dragenter", "dragover"]) {
    zone.addEventListener(kind, (event) => {
      if (hasFiles(event)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        zone.classList.add("is-over");
      }
    });
  }
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) {
      zone.classList.remove("is-over");
    }
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("is-over");
    addFiles(Array.from(event.dataTransfer.files || []));
  });
  // A photo dropped next to the zone is not opened in place of the page.
  for (const kind of ["dragover", "drop"]) {
    document.addEventListener(kind, (event) => {
      if (hasFiles(event) && !zone.contains(event.target)) {
        event.preventDefault();
      }
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    start();
  });

  window.addEventListener("beforeunload", (event) => {
    if (rows.some((row) => ["uploading", "waiting", "paused"].includes(row.state))) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  refresh();
}

start();
