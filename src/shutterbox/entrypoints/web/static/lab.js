/*
 * The cost lab. Reads the form, asks GET /api/v1/cost/estimate for the bill (debounced, the
 * newest answer wins) and shows the API's numbers: figures, breakdowns, verdict, a chart of
 * the first 12 months and the price sheet. The diagram follows the inputs. The live bill
 * comes from GET /api/v1/admin/bill. No price arithmetic happens here: the API is the one
 * place that knows what things cost.
 *
 * This module wires the parts together and runs the estimate; the parts are in lab/: the form
 * (inputs.js), the bill (render.js), the chart (chart.js), the live bill (bill.js) and the
 * number formats (format.js).
 */
import { apiFetch } from "./lib/api.js";
import { live, loadLiveBill } from "./lab/bill.js";
import { field } from "./lab/format.js";
import {
  firstProblem,
  form,
  inputs,
  readInputs,
  reflectInputs,
  syncNumberFromRange,
  syncRangeFromNumber,
  toQuery,
} from "./lab/inputs.js";
import { redrawOnResize, showEstimate } from "./lab/render.js";

const DEBOUNCE_MS = 200;
const bill = document.getElementById("bill");

// --- the estimate -----------------------------------------------------------------------------

let timer = null;
let controller = null;
let sequence = 0;
let touched = false;

function showError(message) {
  const element = field("estimate-error");
  element.textContent = message;
  element.hidden = !message;
}

function schedule() {
  touched = true;
  reflectInputs();
  window.clearTimeout(timer);
  timer = window.setTimeout(update, DEBOUNCE_MS);
}

async function update() {
  const problem = firstProblem();
  if (problem) {
    showError(problem);
    bill.dataset.state = "invalid";
    return;
  }
  const query = toQuery(readInputs());
  if (query === bill.dataset.query && bill.dataset.state === "ready") {
    return;
  }
  if (controller) {
    controller.abort();
  }
  controller = new AbortController();
  const mine = ++sequence;
  bill.dataset.state = "loading";
  let response;
  let body = null;
  try {
    response = await apiFetch(form.dataset.estimateUrl + "?" + query, {
      signal: controller.signal,
    });
    body = await response.json().catch(function () {
      return null;
    });
  } catch (error) {
    if (error.name !== "AbortError" && mine === sequence) {
      showError("The API did not answer; the numbers shown are from before.");
      bill.dataset.state = "error";
    }
    return;
  }
  if (mine !== sequence) {
    return;
  }
  if (!response.ok || !body) {
    const detail = body && body.detail ? body.detail : "HTTP " + response.status;
    showError("The estimate failed: " + detail);
    bill.dataset.state = "error";
    return;
  }
  showError("");
  showEstimate(body);
  bill.dataset.query = query;
  bill.dataset.state = "ready";
  if (touched) {
    window.history.replaceState(null, "", window.location.pathname + "?" + query);
  }
}

// --- wiring ------------------------------------------------------------------------------------

inputs.uploadsRange.addEventListener("input", function () {
  syncNumberFromRange();
  schedule();
});
inputs.uploads.addEventListener("input", syncRangeFromNumber);
form.addEventListener("input", function (event) {
  if (event.target !== inputs.uploadsRange) {
    schedule();
  }
});
form.addEventListener("change", schedule);
form.addEventListener("submit", function (event) {
  event.preventDefault();
  window.clearTimeout(timer);
  update();
});
live.querySelector('[data-live="refresh"]').addEventListener("click", loadLiveBill);

redrawOnResize();
syncRangeFromNumber();
reflectInputs();
update();
loadLiveBill();
