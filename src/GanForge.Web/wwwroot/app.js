// Shared helpers of GanForge's pages: fetch wrappers that surface the server's one-line reasons, and DOM building.
"use strict";

const gf = {
  /** GET or POST JSON; throws an Error carrying the server's one-line reason on a 4xx/5xx. */
  async api(path, options) {
    const response = await fetch(path, options);
    if (!response.ok) {
      const text = (await response.text()).trim();
      throw new Error(text || `${response.status} ${response.statusText}`);
    }
    const type = response.headers.get("content-type") || "";
    return type.includes("json") ? response.json() : response.text();
  },

  /** POSTs body as JSON (same-origin: the server checks the Origin header the browser adds). */
  post(path, body) {
    return gf.api(path, {
      method: "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  },

  /** Builds an element: el("td", {class: "num"}, "12"). Text goes through textContent, never HTML. */
  el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes || {})) {
      if (v === undefined || v === null || v === false) continue;
      node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  /** Shows an error in the page's error box. */
  showError(error) {
    const box = document.getElementById("error");
    if (box) box.textContent = error ? (error.message || String(error)) : "";
  },

  /** A number for a table: up to 4 significant digits, or a dash. */
  num(v, digits = 4) {
    return v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toPrecision(digits).replace(/\.?0+(e|$)/, "$1");
  },

  /** 0.4231 -> "42.3%". */
  pct(v) {
    return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%";
  },

  /** A Wilson interval as "[38.0%, 61.2%]". */
  ci(interval) {
    return interval ? `[${gf.pct(interval.low)}, ${gf.pct(interval.high)}]` : "–";
  },
};
