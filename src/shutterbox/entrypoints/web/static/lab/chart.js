/*
 * The cost lab's chart: the monthly bill of the first months as stacked SVG bars (storage,
 * egress, SQL), drawn to the width of its box.
 */
import { compactMoney, isNumber, money } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
export const SEGMENTS = [
  ["storage_usd", "seg-storage", "storage"],
  ["egress_usd", "seg-egress", "egress"],
  ["sql_usd", "seg-sql", "SQL"],
];

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

export function drawChart(chartBox, months, currency) {
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
