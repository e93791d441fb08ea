/*
 * The cost lab's live bill: what this installation stores and serves, and what that costs a
 * month, from GET /api/v1/admin/bill (for an administrator; others are told so).
 */
import { apiFetch } from "../lib/api.js";
import { LOCALE, amount, bytes, cell, className, count, field, isNumber, money, setText } from "./format.js";
import { form } from "./inputs.js";

export const live = field("live-bill");
const liveStatus = live.querySelector('[data-live="status"]');
const liveContent = live.querySelector('[data-live="content"]');
const liveNote = field("live-bill-note");

function liveState(state, message) {
  live.dataset.state = state;
  liveStatus.hidden = !message;
  liveStatus.textContent = message || "";
  liveNote.hidden = state !== "forbidden";
  liveContent.hidden = state !== "ready";
}

function storedLabel(entry) {
  if (entry.kind === "original") {
    return "Originals";
  }
  const name = entry.name ? entry.name.charAt(0).toUpperCase() + entry.name.slice(1) : "Variants";
  return entry.format ? name + " · " + String(entry.format).toUpperCase() : name;
}

function showLiveBill(data) {
  const body = field("live-stored").querySelector("tbody");
  body.textContent = "";
  let objects = 0;
  let total = 0;
  (data.stored || []).forEach(function (entry) {
    const row = document.createElement("tr");
    row.dataset.kind = entry.kind || "";
    row.dataset.name = entry.name || "";
    row.dataset.format = entry.format || "";
    cell(row, storedLabel(entry), { header: true });
    cell(row, className(entry.storage_class));
    cell(row, count(entry.objects), { className: "num" });
    const size = cell(row, bytes(entry.bytes), { className: "num" });
    size.dataset.bytes = String(entry.bytes);
    size.title = count(entry.bytes) + " bytes";
    body.appendChild(row);
    objects += isNumber(entry.objects) ? entry.objects : 0;
    total += isNumber(entry.bytes) ? entry.bytes : 0;
  });
  if (isNumber(data.trash_bytes) && data.trash_bytes > 0) {
    const row = document.createElement("tr");
    row.dataset.kind = "trash";
    cell(row, "In the trash, awaiting reclaim", { header: true });
    cell(row, "");
    cell(row, "");
    cell(row, bytes(data.trash_bytes), { className: "num" }).dataset.bytes = String(
      data.trash_bytes
    );
    body.appendChild(row);
  }
  setText("live-objects-total", count(objects));
  const totalCell = field("live-stored-total");
  totalCell.textContent = bytes(total);
  totalCell.dataset.bytes = String(total);
  totalCell.title = count(total) + " bytes";

  const egress = data.egress || {};
  const days = egress.window_days;
  setText(
    "live-origin-egress",
    bytes(egress.origin_bytes) + " in " + count(egress.origin_requests) + " requests over " +
      count(days) + " days"
  );
  setText(
    "live-edge-egress",
    egress.edge_reported
      ? bytes(egress.edge_bytes) + " in " + count(egress.edge_requests) + " requests"
      : data.cdn
        ? "not reported by the edges"
        : "no CDN configured"
  );
  setText("live-egress-note", data.egress_note || "");
  setText("live-uploads-per-day", amount(data.uploads_per_day));
  setText(
    "live-database",
    (data.database === "postgresql" ? "PostgreSQL" : data.database === "sqlite" ? "SQLite" : String(data.database || "–")) +
      (data.sql_note ? ": " + data.sql_note : "")
  );
  const monthly = data.monthly_usd || {};
  setText("live-storage-usd", money(monthly.storage));
  setText("live-egress-usd", money(monthly.egress));
  setText("live-sql-usd", money(monthly.sql));
  setText("live-total-usd", money(monthly.total));
  const when = data.measured_at ? new Date(data.measured_at) : null;
  setText(
    "live-measured",
    (when && !Number.isNaN(when.getTime()) ? "Measured " + when.toLocaleString(LOCALE) : "") +
      (data.price_sheet && data.price_sheet.name ? " · prices: " + data.price_sheet.name : "")
  );
}

export async function loadLiveBill() {
  liveState("loading", "Loading what this installation stores and serves…");
  let response;
  let data = null;
  try {
    response = await fetch(form.dataset.billUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    data = response.ok ? await response.json() : null;
  } catch (error) {
    liveState("error", "The live bill could not be loaded: the API did not answer.");
    return;
  }
  if (response.status === 401 || response.status === 403) {
    liveState("forbidden", "");
    return;
  }
  if (!response.ok || !data) {
    liveState("error", "The live bill is not available (HTTP " + response.status + ").");
    return;
  }
  showLiveBill(data);
  liveState("ready", "");
}
