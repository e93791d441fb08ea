/*
 * The cost lab's writing: numbers, money, sizes and storage classes as the page shows them
 * (display only: every value comes from the API), and filling the page's fields and rows.
 */
export const LOCALE = "en-US";

export function field(name) {
  return document.querySelector('[data-testid="' + name + '"]');
}

export function setText(name, text) {
  const element = field(name);
  if (element) {
    element.textContent = text;
  }
}

export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

export function money(value, currency) {
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

export function compactMoney(value, currency) {
  return new Intl.NumberFormat(LOCALE, {
    style: "currency",
    currency: currency || "USD",
    notation: "compact",
    maximumSignificantDigits: 3,
  }).format(value);
}

export function amount(value) {
  if (!isNumber(value)) {
    return "–";
  }
  if (value === 0) {
    return "0";
  }
  return new Intl.NumberFormat(LOCALE, { maximumSignificantDigits: 3 }).format(value);
}

export function count(value) {
  return isNumber(value) ? new Intl.NumberFormat(LOCALE).format(value) : "–";
}

export function bytes(value) {
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

/* A storage class by its short name, as the form's <select> lists it. */
export function className(value) {
  const select = document.getElementById("originals-class");
  const option = select && select.querySelector('option[value="' + value + '"]');
  return option && option.dataset.short ? option.dataset.short : String(value);
}

export function cell(row, text, options) {
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
