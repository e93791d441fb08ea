/*
 * The cost lab's form: its controls, reading them (and the query string the estimate takes,
 * which is also the page's own link), the logarithmic daily uploads slider, and the diagram
 * and controls that follow the inputs.
 */
import { className, count, field } from "./format.js";

export const form = document.getElementById("lab-form");

export const inputs = {
  uploads: document.getElementById("daily-uploads"),
  uploadsRange: document.getElementById("daily-uploads-range"),
  storageClass: document.getElementById("originals-class"),
  cdn: document.getElementById("cdn"),
  hitRate: document.getElementById("cdn-hit-rate"),
  hitRateOut: document.getElementById("cdn-hit-rate-out"),
  hitRateField: document.getElementById("hit-rate-field"),
  views: document.getElementById("views-per-upload"),
};

// --- reading the form ---------------------------------------------------------------------

export function readInputs() {
  const variants = [];
  form.querySelectorAll('input[name="variants"]').forEach(function (box) {
    if (box.checked) {
      variants.push(box.value);
    }
  });
  return {
    daily_uploads: inputs.uploads.value.trim(),
    variants: variants,
    originals_class: inputs.storageClass.value,
    cdn: inputs.cdn.checked,
    cdn_hit_rate: inputs.hitRate.value,
    views_per_upload: inputs.views.value.trim(),
  };
}

/* The query string the estimate endpoint takes (and the page's own URL, to link to). */
export function toQuery(values) {
  const parts = [
    ["daily_uploads", values.daily_uploads],
    ["variants", values.variants.map(encodeURIComponent).join(",")],
    ["originals_class", values.originals_class],
    ["cdn", values.cdn ? "true" : "false"],
    ["cdn_hit_rate", values.cdn_hit_rate],
    ["views_per_upload", values.views_per_upload],
  ];
  return parts
    .map(function (part) {
      const value = part[0] === "variants" ? part[1] : encodeURIComponent(part[1]);
      return part[0] + "=" + value;
    })
    .join("&");
}

export function firstProblem() {
  const bad = form.querySelector("input:invalid, select:invalid");
  if (!bad) {
    return null;
  }
  const label = bad.labels && bad.labels.length ? bad.labels[0].textContent.trim() : bad.name;
  return label + ": " + bad.validationMessage;
}

// --- the daily uploads slider (logarithmic) -------------------------------------------------

function niceRound(value) {
  if (value < 10) {
    return Math.round(value);
  }
  const step = Math.pow(10, Math.floor(Math.log10(value)) - 1);
  return Math.round(value / step) * step;
}

export function syncRangeFromNumber() {
  const value = Number(inputs.uploads.value);
  if (Number.isFinite(value) && value >= 0) {
    const position = Math.log10(Math.max(value, 1));
    const low = Number(inputs.uploadsRange.min);
    const high = Number(inputs.uploadsRange.max);
    inputs.uploadsRange.value = String(Math.min(high, Math.max(low, position)));
    inputs.uploadsRange.setAttribute("aria-valuetext", count(value) + " uploads per day");
  }
}

export function syncNumberFromRange() {
  const value = niceRound(Math.pow(10, Number(inputs.uploadsRange.value)));
  inputs.uploads.value = String(value);
  inputs.uploadsRange.setAttribute("aria-valuetext", count(value) + " uploads per day");
}

// --- the diagram and the controls that depend on other controls ---------------------------

export function reflectInputs() {
  const values = readInputs();
  const hitRate = Math.round(Number(values.cdn_hit_rate) * 100);
  inputs.hitRate.disabled = !values.cdn;
  inputs.hitRateField.classList.toggle("is-disabled", !values.cdn);
  inputs.hitRateOut.textContent = hitRate + " %";
  inputs.hitRate.setAttribute("aria-valuetext", hitRate + " %");

  document.querySelectorAll("[data-tier]").forEach(function (tier) {
    const name = tier.dataset.tier;
    if (name !== "original") {
      tier.classList.toggle("is-off", values.variants.indexOf(name) === -1);
    }
  });
  const uploads = Number(values.daily_uploads);
  document.querySelector('[data-dg="uploads"]').textContent = Number.isFinite(uploads)
    ? count(uploads)
    : "?";
  document.querySelector('[data-dg="originals-class"]').textContent = className(
    values.originals_class
  );
  const chosen = inputs.storageClass.selectedOptions[0];
  document.getElementById("originals-class-hint").textContent =
    chosen && chosen.dataset.detail ? chosen.dataset.detail + "." : "";
  document.querySelector('[data-dg="views"]').textContent = values.views_per_upload || "?";
  const cdnNode = field("diagram-cdn");
  cdnNode.classList.toggle("is-off", !values.cdn);
  cdnNode.dataset.on = values.cdn ? "true" : "false";
  document.querySelector('[data-dg="cdn"]').textContent = values.cdn
    ? hitRate + " % hit rate"
    : "off: every view from the origin";
}
