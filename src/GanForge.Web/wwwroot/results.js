// A study's results: per checkpoint the judges' accuracy and the fooled rate with its 95% Wilson interval, by class too.
"use strict";

const study = decodeURIComponent(location.pathname.split("/")[2] || "");

function rateCells(rate) {
  return [gf.el("td", { class: "num" }, gf.pct(rate.value)), gf.el("td", { class: "num" }, `${rate.count} / ${rate.of}`), gf.el("td", { class: "num" }, gf.ci(rate.ci95))];
}

function render(r) {
  document.getElementById("about").textContent =
    `Study ${r.study}: ${r.images} images (${r.real} vs ${r.checkpoints.map(c => c.checkpoint).join(", ")}), ${r.pair ? "shown in pairs" : "one at a time"}, created ${new Date(r.createdUtc).toLocaleString()}.`;
  document.getElementById("totals").replaceChildren(
    gf.el("div", {}, gf.el("dt", {}, "judges"), gf.el("dd", { id: "judges" }, r.judges)),
    gf.el("div", {}, gf.el("dt", {}, "judgments"), gf.el("dd", { id: "judgments" }, r.judgments)),
    gf.el("div", {}, gf.el("dt", {}, "judge accuracy"), gf.el("dd", { id: "accuracy" }, gf.pct(r.accuracy.value))));
  document.getElementById("checkpoints").replaceChildren(...r.checkpoints.map(c => gf.el("section", { "data-checkpoint": c.checkpoint },
    gf.el("h2", {}, `Checkpoint ${c.checkpoint}`),
    gf.el("table", { class: "list" },
      gf.el("thead", {}, gf.el("tr", {}, gf.el("th", {}, ""), gf.el("th", { class: "num" }, "rate"), gf.el("th", { class: "num" }, "count"), gf.el("th", { class: "num" }, "95% interval"))),
      gf.el("tbody", {},
        gf.el("tr", { "data-row": "fooled" }, gf.el("th", {}, "fooled rate (generated judged real)"), ...rateCells(c.fooled)),
        gf.el("tr", { "data-row": "accuracy" }, gf.el("th", {}, "judge accuracy"), ...rateCells(c.accuracy)),
        gf.el("tr", { "data-row": "real" }, gf.el("th", {}, "real judged real"), ...rateCells(c.realJudgedReal)))),
    gf.el("p", { class: "sub" }, `${c.judges} judge${c.judges === 1 ? "" : "s"}, ${c.judgments} judgments`),
    gf.el("h3", {}, "By class"),
    gf.el("table", { class: "list" },
      gf.el("thead", {}, gf.el("tr", {}, gf.el("th", {}, "class"), gf.el("th", { class: "num" }, "judgments"), gf.el("th", { class: "num" }, "accuracy"),
        gf.el("th", { class: "num" }, "fooled rate"), gf.el("th", { class: "num" }, "fooled / generated"), gf.el("th", { class: "num" }, "95% interval"))),
      gf.el("tbody", {}, c.classes.map(k => gf.el("tr", {},
        gf.el("td", {}, k.name), gf.el("td", { class: "num" }, k.judgments), gf.el("td", { class: "num" }, gf.pct(k.accuracy.value)),
        gf.el("td", { class: "num" }, gf.pct(k.fooled.value)), gf.el("td", { class: "num" }, `${k.fooled.count} / ${k.fooled.of}`),
        gf.el("td", { class: "num" }, gf.ci(k.fooled.ci95)))))))));
}

async function refresh() {
  try {
    render(await gf.api(`/api/studies/${study}/results`));
    document.getElementById("live").classList.remove("stale");
    gf.showError(null);
  } catch (e) {
    document.getElementById("live").classList.add("stale");
    gf.showError(e);
  }
}

document.getElementById("csv").href = `/api/studies/${study}/results.csv`;
document.getElementById("judge-link").href = `/turing/${study}`;
refresh();
setInterval(refresh, 5000);
