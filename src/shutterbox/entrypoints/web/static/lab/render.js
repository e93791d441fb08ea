/*
 * The cost lab's bill: the API's estimate shown as figures, breakdowns, the verdict, the
 * chart, the months and the price sheet.
 */
import { SEGMENTS, drawChart } from "./chart.js";
import { LOCALE, amount, cell, className, field, isNumber, money, setText } from "./format.js";

const PATH_LABELS = {
  cdn_to_viewers: "CDN → viewers",
  origin_to_cdn: "Origin → CDN",
  origin_to_viewers: "Origin → viewers",
};
const chartBox = document.getElementById("chart");
let lastMonths = null;
let lastCurrency = "USD";

function fillBreakdown(name, entries, label, currency) {
  const body = field(name);
  body.textContent = "";
  Object.keys(entries || {}).forEach(function (key) {
    const entry = entries[key] || {};
    const row = document.createElement("tr");
    row.dataset.key = key;
    cell(row, label(key), { header: true });
    cell(row, amount(entry.tb), { className: "num" });
    cell(row, money(entry.usd, currency), { className: "money" });
    body.appendChild(row);
  });
}

export function showEstimate(estimate) {
  const sheet = estimate.price_sheet || {};
  const currency = sheet.currency || "USD";
  setText("stored-tb", amount(estimate.stored_tb));
  setText("egress-tb", amount(estimate.egress_tb));
  setText("per-upload-mb", amount(estimate.per_upload_mb));
  setText("storage-usd", money(estimate.storage_usd, currency));
  setText("egress-usd", money(estimate.egress_usd, currency));
  setText("sql-usd", money(estimate.sql_usd, currency));
  setText("total-usd", money(estimate.total_usd, currency));
  setText("verdict", estimate.verdict || "");
  setText("advice", estimate.advice || "");
  fillBreakdown("storage-by-class", estimate.storage_by_class, className, currency);
  fillBreakdown(
    "egress-by-path",
    estimate.egress_by_path,
    function (key) {
      return PATH_LABELS[key] || key.replace(/_/g, " ");
    },
    currency
  );
  showSizes(sheet.sizes || {});
  lastMonths = Array.isArray(estimate.months) ? estimate.months : [];
  lastCurrency = currency;
  drawChart(chartBox, lastMonths, currency);
  fillMonths(lastMonths, currency);
  fillPriceSheet(sheet);
}

/* The price sheet's typical sizes next to the variants and in the diagram. */
function showSizes(sizes) {
  document.querySelectorAll("[data-size]").forEach(function (element) {
    const kb = sizes[element.dataset.size + "_kb"];
    if (isNumber(kb)) {
      element.textContent = kb >= 1000 ? amount(kb / 1000) + " MB" : amount(kb) + " KB";
    }
  });
}

function fillMonths(months, currency) {
  const body = field("months-table");
  body.textContent = "";
  months.forEach(function (month) {
    const row = document.createElement("tr");
    cell(row, String(month.month), { header: true });
    cell(row, amount(month.stored_tb), { className: "num" });
    SEGMENTS.forEach(function (segment) {
      cell(row, money(month[segment[0]], currency), { className: "money" });
    });
    cell(row, money(month.total_usd, currency), { className: "money" });
    body.appendChild(row);
  });
}

function fillPriceSheet(sheet) {
  setText("price-sheet-name", sheet.name ? "· " + sheet.name : "");
  const body = field("price-sheet");
  body.textContent = "";
  (sheet.prices || []).forEach(function (price) {
    const row = document.createElement("tr");
    row.dataset.key = price.key || "";
    cell(row, price.label || price.key || "", { header: true });
    cell(
      row,
      isNumber(price.usd)
        ? new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 8 }).format(price.usd)
        : "–"
    );
    cell(row, price.unit || "");
    const source = cell(row, "");
    const text = String(price.source || "");
    if (/^https?:\/\//.test(text)) {
      const link = document.createElement("a");
      link.href = text;
      link.rel = "noopener noreferrer";
      link.textContent = text.replace(/^https?:\/\//, "");
      source.appendChild(link);
    } else {
      source.textContent = text;
    }
    body.appendChild(row);
  });
}

/* Draws the chart again when its box changes width (a rotated phone, a resized window). */
export function redrawOnResize() {
  if (window.ResizeObserver) {
    let drawnWidth = 0;
    new ResizeObserver(function () {
      const width = Math.round(chartBox.clientWidth);
      if (lastMonths && width !== drawnWidth) {
        drawnWidth = width;
        drawChart(chartBox, lastMonths, lastCurrency);
      }
    }).observe(chartBox);
  }
}
