// A run's page: the HTML report's summary and charts, the latest sample grid and the warnings, polled once a
// second with the run's version so the page follows `ganforge train` without a reload.
"use strict";

const name = decodeURIComponent(location.pathname.split("/")[2] || "");
let version = null;

function render(run) {
  const s = run.summary;
  document.getElementById("what").textContent = [s.model, s.data].filter(Boolean).join(" on ");
  const explore = document.getElementById("explore");
  explore.hidden = !s.hasCheckpoint;
  explore.href = `/explore?run=${encodeURIComponent(name)}`;

  document.getElementById("facts").replaceChildren(...run.facts.map(f =>
    gf.el("div", {}, gf.el("dt", {}, f.label), gf.el("dd", {}, f.value))));

  // The charts are the report's own SVG (drawn by the server from the statistics registry); replace each in place.
  const charts = document.getElementById("charts");
  charts.replaceChildren(...run.charts.map(c => {
    const box = gf.el("div", { class: "chartbox", "data-chart": c.title });
    box.innerHTML = c.svg;
    return box;
  }));
  document.getElementById("no-charts").hidden = run.charts.length > 0;

  const latest = document.getElementById("latest");
  if (run.sampleEpochs.length > 0) {
    const epoch = run.sampleEpochs[run.sampleEpochs.length - 1];
    const file = `epoch_${String(epoch).padStart(3, "0")}.png`;
    document.getElementById("latest-img").src = `/api/runs/${encodeURIComponent(name)}/samples/${file}?v=${run.version}`;
    document.getElementById("latest-caption").textContent = `latest samples: epoch ${epoch}`;
    latest.hidden = false;
  } else latest.hidden = true;

  document.getElementById("warnings-title").textContent = `Warnings (${run.warnings.length})`;
  document.querySelector("#warnings tbody").replaceChildren(...run.warnings.map(w =>
    gf.el("tr", {}, gf.el("td", { class: "num" }, w.step >= 0 ? w.step : ""), gf.el("td", {}, gf.el("span", { class: "badge" }, w.kind)), gf.el("td", {}, w.message))));
  document.getElementById("warnings").hidden = run.warnings.length === 0;
  document.getElementById("no-warnings").hidden = run.warnings.length > 0;

  document.getElementById("problems").replaceChildren(...(run.problems.length === 0 ? [] :
    [gf.el("h2", {}, "Problems reading the run"), gf.el("ul", {}, run.problems.map(p => gf.el("li", {}, p)))]));
}

async function poll() {
  try {
    const query = version ? `?since=${encodeURIComponent(version)}` : "";
    const run = await gf.api(`/api/runs/${encodeURIComponent(name)}${query}`);
    if (run.changed) render(run);
    version = run.version;
    document.getElementById("live").classList.remove("stale");
    document.getElementById("live").textContent = `live · checked ${new Date().toLocaleTimeString()}`;
    gf.showError(null);
  } catch (e) {
    document.getElementById("live").classList.add("stale");
    gf.showError(e);
  }
  setTimeout(poll, 1000);
}

document.getElementById("name").textContent = name;
document.title = `GanForge · ${name}`;
poll();
