// Creating a Turing-test study from the runs that have a checkpoint.
"use strict";

async function loadRuns() {
  const runs = (await gf.api("/api/runs")).filter(r => r.hasCheckpoint);
  const box = document.getElementById("checkpoints");
  box.replaceChildren(...(runs.length === 0 ? [gf.el("span", { class: "empty" }, "no run has a checkpoint yet")] :
    runs.map((r, i) => gf.el("label", {}, gf.el("input", { type: "checkbox", name: "checkpoint", value: r.name, checked: i === 0 }), " ", r.name,
      gf.el("span", { class: "sub" }, ` (${r.model ?? "?"}, step ${r.steps ?? "?"})`)))));
}

document.getElementById("create").addEventListener("submit", async event => {
  event.preventDefault();
  const button = document.getElementById("submit");
  button.disabled = true;
  button.textContent = "Drawing images…";
  try {
    const checkpoints = [...document.querySelectorAll("input[name=checkpoint]:checked")].map(c => c.value);
    const study = await gf.post("/api/studies", {
      checkpoints,
      real: document.getElementById("real").value,
      count: Number(document.getElementById("count").value),
      pair: document.getElementById("pair").checked,
      seed: Number(document.getElementById("seed").value),
    });
    const judge = new URL(study.link, location.href).href, results = new URL(study.results, location.href).href;
    document.getElementById("study-id").textContent = study.id;
    Object.assign(document.getElementById("judge-link"), { href: judge, textContent: judge });
    Object.assign(document.getElementById("results-link"), { href: results, textContent: results });
    document.getElementById("created").hidden = false;
    gf.showError(null);
  } catch (e) {
    gf.showError(e);
  } finally {
    button.disabled = false;
    button.textContent = "Create study";
  }
});

loadRuns().catch(gf.showError);
