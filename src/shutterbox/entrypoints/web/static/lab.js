/*
 * The cost lab. Reads the form, asks GET /api/v1/cost/estimate for the bill (debounced, the
 * newest answer wins) and shows the API's numbers: figures, breakdowns, verdict, a chart of
 * the first 12 months and the price sheet. The diagram follows the inputs. The live bill
 * comes from GET /api/v1/admin/bill. No price arithmetic happens here: the API is the one
 * place that knows what things cost.
 */
(function () {
  "use strict";

  const form = document.getElementById("lab-form");
  if (!form) {
    return;
  }

  const LOCALE = "en-US";
  const DEBOUNCE_MS = 200;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const PATH_LABELS = {
    cdn_to_viewers: "CDN → viewers",
    origin_to_cdn: "Origin → CDN",
    origin_to_viewers: "Origin → viewers",
  };
  const SEGMENTS = [
    ["storage_usd", "seg-storage", "storage"],
    ["egress_usd", "seg-egress", "egress"],
    ["sql_usd", "seg-sql", "SQL"],
  ];

  const inputs = {
    uploads: document.getElementById("daily-uploads"),
    uploadsRange: document.getElementById("daily-uploads-range"),
    storageClass: document.getElementById("originals-class"),
    cdn: document.getElementById("cdn"),
    hitRate: document.getElementById("cdn-hit-rate"),
    hitRateOut: document.getElementById("cdn-hit-rate-out"),
    hitRateField: document.getElementById("hit-rate-field"),
    views: document.getElementById("views-per-upload"),
  };
  const bill = document.getElementById("bill");
  const chartBox = document.getElementById("chart");

  function field(name) {
    return document.querySelector('[data-testid="' + name + '"]');
  }

  function setText(name, text) {
    const element = field(name);
    if (element) {
      element.textContent = text;
    }
  }

  // --- formatting (display only: the values come from the API) ---------------------------

  function isNumber(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  function money(value, currency) {
    if (!isNumber(value)) {
      return "–";
    }
    // Whole dollars like the seed ($414); cents under $10; a trace as "< $0.01".
    if (value !== 0 && Math.abs(value) < 0.005) {
      return "< " + money(value < 0 ? -0.01 : 0.01, currency);
    }
    const digits = value !== 0 && Math.abs(value) < 10 ? 2 : 0;
    return new Intl.NumberFormat(LOCALE, {
      style: "currency",
      currency: currency || "USD",
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(value);
  }

  function compactMoney(value, currency) {
    return new Intl.NumberFormat(LOCALE, {
      style: "currency",
      currency: currency || "USD",
      notation: "compact",
      maximumSignificantDigits: 3,
    }).format(value);
  }

  function amount(value) {
    if (!isNumber(value)) {
      return "–";
    }
    if (value === 0) {
      return "0";
    }
    return new Intl.NumberFormat(LOCALE, { maximumSignificantDigits: 3 }).format(value);
  }

  function count(value) {
    return isNumber(value) ? new Intl.NumberFormat(LOCALE).format(value) : "–";
  }

  function bytes(value) {
    if (!isNumber(value)) {
      return "–";
    }
    const units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let scaled = value;
    let unit = 0;
    while (Math.abs(scaled) >= 1000 && unit < units.length - 1) {
      scaled /= 1000;
      unit += 1;
    }
    return (unit === 0 ? String(value) : amount(scaled)) + " " + units[unit];
  }

  function className(value) {
    const option = inputs.storageClass.querySelector('option[value="' + value + '"]');
    return option && option.dataset.short ? option.dataset.short : String(value);
  }

  function cell(row, text, options) {
    const td = document.createElement(options && options.header ? "th" : "td");
    if (options && options.header) {
      td.scope = "row";
    }
    if (options && options.className) {
      td.className = options.className;
    }
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  // --- reading the form ---------------------------------------------------------------------

  function readInputs() {
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
  function toQuery(values) {
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

  function firstProblem() {
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

  function syncRangeFromNumber() {
    const value = Number(inputs.uploads.value);
    if (Number.isFinite(value) && value >= 0) {
      const position = Math.log10(Math.max(value, 1));
      const low = Number(inputs.uploadsRange.min);
      const high = Number(inputs.uploadsRange.max);
      inputs.uploadsRange.value = String(Math.min(high, Math.max(low, position)));
      inputs.uploadsRange.setAttribute("aria-valuetext", count(value) + " uploads per day");
    }
  }

  function syncNumberFromRange() {
    const value = niceRound(Math.pow(10, Number(inputs.uploadsRange.value)));
    inputs.uploads.value = String(value);
    inputs.uploadsRange.setAttribute("aria-valuetext", count(value) + " uploads per day");
  }

  // --- the diagram and the controls that depend on other controls ---------------------------

  function reflectInputs() {
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

  // --- the estimate -----------------------------------------------------------------------------

  let timer = null;
  let controller = null;
  let sequence = 0;
  let touched = false;
  let lastMonths = null;
  let lastCurrency = "USD";

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
      response = await fetch(form.dataset.estimateUrl + "?" + query, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
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

  function showEstimate(estimate) {
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
    drawChart(lastMonths, currency);
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

  // --- the chart ---------------------------------------------------------------------------------

  function svg(name, attributes, parent) {
    const element = document.createElementNS(SVG_NS, name);
    Object.keys(attributes || {}).forEach(function (key) {
      element.setAttribute(key, String(attributes[key]));
    });
    if (parent) {
      parent.appendChild(element);
    }
    return element;
  }

  function niceStep(maximum, steps) {
    const raw = maximum / steps;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const multiple = [1, 2, 2.5, 5, 10].find(function (m) {
      return m * magnitude >= raw;
    });
    return multiple * magnitude;
  }

  function drawChart(months, currency) {
    chartBox.textContent = "";
    if (!months.length) {
      return;
    }
    const width = Math.max(260, Math.round(chartBox.clientWidth || 640));
    const height = 240;
    const margin = { top: 12, right: 8, bottom: 28, left: 56 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const totals = months.map(function (month) {
      return SEGMENTS.reduce(function (sum, segment) {
        return sum + (isNumber(month[segment[0]]) ? month[segment[0]] : 0);
      }, 0);
    });
    const highest = Math.max.apply(null, totals);
    const step = highest > 0 ? niceStep(highest, 4) : 1;
    const top = Math.max(step, Math.ceil(highest / step) * step);
    function y(value) {
      return margin.top + plotHeight - (value / top) * plotHeight;
    }

    const root = svg("svg", {
      viewBox: "0 0 " + width + " " + height,
      width: width,
      height: height,
      "aria-hidden": "true",
      focusable: "false",
    });
    for (let tick = 0; tick <= top + step / 2; tick += step) {
      svg("line", {
        class: "grid-line",
        x1: margin.left,
        x2: width - margin.right,
        y1: y(tick),
        y2: y(tick),
      }, root);
      const label = svg("text", { x: margin.left - 6, y: y(tick) + 4, "text-anchor": "end" }, root);
      label.textContent = compactMoney(tick, currency);
    }
    const band = plotWidth / months.length;
    const barWidth = Math.min(44, band * 0.64);
    months.forEach(function (month, index) {
      const group = svg("g", { class: "month", "data-month": month.month }, root);
      const title = svg("title", {}, group);
      title.textContent =
        "Month " + month.month + ": " + money(month.total_usd, currency) + " (" +
        SEGMENTS.map(function (segment) {
          return segment[2] + " " + money(month[segment[0]], currency);
        }).join(", ") + ")";
      const x = margin.left + index * band + (band - barWidth) / 2;
      let base = 0;
      SEGMENTS.forEach(function (segment) {
        const value = isNumber(month[segment[0]]) ? month[segment[0]] : 0;
        if (value > 0) {
          svg("rect", {
            class: segment[1],
            x: x.toFixed(1),
            y: y(base + value).toFixed(1),
            width: barWidth.toFixed(1),
            height: Math.max(0, y(base) - y(base + value)).toFixed(1),
          }, group);
        }
        base += value;
      });
      if (band >= 22 || index % 2 === 0) {
        const label = svg("text", {
          x: (x + barWidth / 2).toFixed(1),
          y: height - margin.bottom + 18,
          "text-anchor": "middle",
        }, group);
        label.textContent = String(month.month);
      }
    });
    chartBox.appendChild(root);
    const first = months[0];
    const last = months[months.length - 1];
    chartBox.setAttribute(
      "aria-label",
      "Monthly bill for the first " + months.length + " months: " +
        money(first.total_usd, currency) + " in month " + first.month + ", " +
        money(last.total_usd, currency) + " in month " + last.month
    );
  }

  if (window.ResizeObserver) {
    let drawnWidth = 0;
    new ResizeObserver(function () {
      const width = Math.round(chartBox.clientWidth);
      if (lastMonths && width !== drawnWidth) {
        drawnWidth = width;
        drawChart(lastMonths, lastCurrency);
      }
    }).observe(chartBox);
  }

  // --- the live bill -----------------------------------------------------------------------------

  const live = field("live-bill");
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

  async function loadLiveBill() {
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

  syncRangeFromNumber();
  reflectInputs();
  update();
  loadLiveBill();
})();
