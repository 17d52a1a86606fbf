// The dashboard: the runs under --runs, refreshed every few seconds.
"use strict";

async function refresh() {
  try {
    const runs = await gf.api("/api/runs");
    const body = document.querySelector("#runs tbody");
    body.replaceChildren(...runs.map(r => gf.el("tr", { "data-run": r.name },
      gf.el("td", {}, gf.el("a", { href: `/runs/${encodeURIComponent(r.name)}` }, r.name)),
      gf.el("td", {}, r.model ?? "–"),
      gf.el("td", {}, r.data ?? "–"),
      gf.el("td", { class: "num" }, r.steps ?? "–"),
      gf.el("td", { class: "num" }, gf.num(r.lastFid)),
      gf.el("td", {}, r.warnings > 0 ? gf.el("span", { class: "badge" }, `${r.warnings} warning${r.warnings === 1 ? "" : "s"}`) : gf.el("span", { class: "badge ok" }, "none")),
      gf.el("td", {}, new Date(r.updated).toLocaleString()),
      gf.el("td", {}, r.hasCheckpoint ? gf.el("a", { href: `/explore?run=${encodeURIComponent(r.name)}` }, "explore") : ""))));
    document.getElementById("none").hidden = runs.length > 0;
    document.getElementById("live").classList.remove("stale");
    gf.showError(null);
  } catch (e) {
    document.getElementById("live").classList.add("stale");
    gf.showError(e);
  }
}

refresh();
setInterval(refresh, 3000);
