/*
 * Blurhash placeholders (https://blurha.sh): a few dozen characters that decode to a blurred
 * picture of an image, shown while the image itself loads. Dependency free. A module:
 *
 *   decode(hash, width, height, punch) -> Uint8ClampedArray (RGBA)
 *   isValid(hash) -> boolean
 *   draw(canvas, hash) -> boolean: paints the canvas (its own size)
 *   toDataURL(hash, width, height) -> "data:image/png;..." or ""
 *   paint(root) -> paints every <canvas data-blurhash> under root and gives
 *     every [data-color] element its dominant colour as background; marks the canvases
 *     data-state="drawn" (or "invalid"). Runs once on the document when the page loads.
 */
const DIGITS =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
const COLOR = /^#[0-9a-fA-F]{6}$/;

function decode83(text) {
  let value = 0;
  for (const char of text) {
    const digit = DIGITS.indexOf(char);
    if (digit < 0) {
      throw new Error("not a blurhash character: " + char);
    }
    value = value * 83 + digit;
  }
  return value;
}

function sRGBToLinear(value) {
  const v = value / 255;
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function linearToSRGB(value) {
  const v = Math.max(0, Math.min(1, value));
  if (v <= 0.0031308) {
    return Math.round(v * 12.92 * 255 + 0.5);
  }
  return Math.round((1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
}

function signPow(value, exponent) {
  return Math.sign(value) * Math.pow(Math.abs(value), exponent);
}

function components(hash) {
  const flag = decode83(hash[0]);
  return { x: (flag % 9) + 1, y: Math.floor(flag / 9) + 1 };
}

function isValid(hash) {
  if (typeof hash !== "string" || hash.length < 6) {
    return false;
  }
  try {
    const size = components(hash);
    decode83(hash);
    return hash.length === 4 + 2 * size.x * size.y;
  } catch (error) {
    return false;
  }
}

function decode(hash, width, height, punch) {
  if (!isValid(hash)) {
    throw new Error("not a blurhash: " + hash);
  }
  const size = components(hash);
  const maximum = ((decode83(hash[1]) + 1) / 166) * (punch || 1);
  const colors = [];
  const dc = decode83(hash.substring(2, 6));
  colors.push([sRGBToLinear(dc >> 16), sRGBToLinear((dc >> 8) & 255), sRGBToLinear(dc & 255)]);
  for (let i = 1; i < size.x * size.y; i++) {
    const ac = decode83(hash.substring(4 + i * 2, 6 + i * 2));
    colors.push([
      signPow((Math.floor(ac / (19 * 19)) - 9) / 9, 2) * maximum,
      signPow(((Math.floor(ac / 19) % 19) - 9) / 9, 2) * maximum,
      signPow(((ac % 19) - 9) / 9, 2) * maximum,
    ]);
  }

  const pixels = new Uint8ClampedArray(width * height * 4);
  const cosX = new Float64Array(width * size.x);
  const cosY = new Float64Array(height * size.y);
  for (let x = 0; x < width; x++) {
    for (let i = 0; i < size.x; i++) {
      cosX[x * size.x + i] = Math.cos((Math.PI * x * i) / width);
    }
  }
  for (let y = 0; y < height; y++) {
    for (let j = 0; j < size.y; j++) {
      cosY[y * size.y + j] = Math.cos((Math.PI * y * j) / height);
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < size.y; j++) {
        for (let i = 0; i < size.x; i++) {
          const basis = cosX[x * size.x + i] * cosY[y * size.y + j];
          const color = colors[i + j * size.x];
          r += color[0] * basis;
          g += color[1] * basis;
          b += color[2] * basis;
        }
      }
      const at = 4 * (x + y * width);
      pixels[at] = linearToSRGB(r);
      pixels[at + 1] = linearToSRGB(g);
      pixels[at + 2] = linearToSRGB(b);
      pixels[at + 3] = 255;
    }
  }
  return pixels;
}

function draw(canvas, hash) {
  if (!isValid(hash)) {
    return false;
  }
  const width = canvas.width || 32;
  const height = canvas.height || 32;
  const context = canvas.getContext("2d");
  if (!context) {
    return false;
  }
  const image = context.createImageData(width, height);
  image.data.set(decode(hash, width, height));
  context.putImageData(image, 0, 0);
  return true;
}

function toDataURL(hash, width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width || 32;
  canvas.height = height || 32;
  return draw(canvas, hash) ? canvas.toDataURL("image/png") : "";
}

function paint(root) {
  const scope = root || document;
  scope.querySelectorAll("[data-color]").forEach((element) => {
    const color = element.getAttribute("data-color");
    if (COLOR.test(color)) {
      element.style.backgroundColor = color; // CSSOM: allowed by the style-src policy
    }
  });
  scope.querySelectorAll("canvas[data-blurhash]").forEach((canvas) => {
    if (canvas.dataset.state) {
      return;
    }
    canvas.dataset.state = draw(canvas, canvas.dataset.blurhash) ? "drawn" : "invalid";
  });
}

export { decode, isValid, draw, toDataURL, paint };

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => paint(document));
} else {
  paint(document);
}
