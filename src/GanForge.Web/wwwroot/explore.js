// The latent explorer: every control change asks the server for the image at the new latent point.
"use strict";

const $ = id => document.getElementById(id);
let model = null, timer = null, pending = false;

function offsets() {
  return [...document.querySelectorAll("#directions input")].map(i => Number(i.value));
}

function codes() {
  return [...document.querySelectorAll("#codes input")].map(i => Number(i.value));
}

// The class, InfoGAN's category and continuous codes, where the model has them.
function conditions(p) {
  if (model.classes > 0) p.set("class", $("class").value);
  if (model.categories > 0) p.set("cat", $("category").value);
  if (model.continuousCodes > 0) p.set("c", codes().join(","));
  return p;
}

function query() {
  const p = new URLSearchParams({ seed: $("seed").value, psi: $("psi").value, d: offsets().join(",") });
  if (Number($("t").value) > 0) { p.set("to", $("to").value); p.set("t", $("t").value); }
  return conditions(p);
}

function slider(id, label, min, max, step, value) {
  const input = gf.el("input", { type: "range", id, min, max, step, value });
  input.addEventListener("input", render);
  return gf.el("div", { class: "row" }, gf.el("label", { for: id }, label), input, gf.el("output", {}, String(value)));
}

function render() {
  // Coalesce slider drags: one request in flight, the latest settings next.
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (!model) return;
    const img = $("sample");
    if (pending) { timer = setTimeout(render, 30); return; }
    const url = new URL(`/api/explore/${encodeURIComponent(model.run)}/image.png?${query()}`, location.href).href;
    if (img.src !== url) { pending = true; img.src = url; }
    $("psi-value").textContent = Number($("psi").value).toFixed(2);
    $("t-value").textContent = Number($("t").value).toFixed(2);
    document.querySelectorAll("#directions output").forEach((o, i) => o.textContent = offsets()[i].toFixed(1));
    document.querySelectorAll("#codes output").forEach((o, i) => o.textContent = codes()[i].toFixed(1));
    if (model.classes > 0) $("class-value").textContent = model.classNames[Number($("class").value)];
    if (model.categories > 0) $("category-value").textContent = $("category").value;
  }, 40);
}

$("sample").addEventListener("load", () => { pending = false; gf.showError(null); });
$("sample").addEventListener("error", async () => {
  pending = false;
  try { await gf.api($("sample").src); } catch (e) { gf.showError(e); }
});

async function pick(run) {
  try {
    model = await gf.api(`/api/explore/${encodeURIComponent(run)}`);
    history.replaceState(null, "", `/explore?run=${encodeURIComponent(run)}`);
    $("directions").replaceChildren(...Array.from({ length: model.directions }, (_, i) => {
      const input = gf.el("input", { type: "range", id: `d${i}`, min: -3, max: 3, step: 0.1, value: 0 });
      input.addEventListener("input", render);
      return gf.el("div", { class: "row" }, gf.el("label", { for: `d${i}` }, `direction ${i + 1}`), input, gf.el("output", {}, "0.0"));
    }));
    const conditionRows = [];
    if (model.classes > 0) {
      const row = slider("class", "class", 0, model.classes - 1, 1, 0);
      row.querySelector("output").id = "class-value";
      conditionRows.push(row);
    }
    if (model.categories > 0) {
      const row = slider("category", "category", 0, model.categories - 1, 1, 0);
      row.querySelector("output").id = "category-value";
      conditionRows.push(row);
    }
    $("conditions").replaceChildren(...conditionRows);
    $("codes").replaceChildren(...Array.from({ length: model.continuousCodes }, (_, i) => slider(`c${i}`, `code c${i + 1}`, -2, 2, 0.1, 0)));
    $("meta").textContent = `${model.model}, z of ${model.latentDim}, images ${model.imageShape.join("×")}, checkpoint at step ${model.step}${model.usesEma ? " (EMA generator)" : ""}`;
    $("strip").removeAttribute("src");
    render();
  } catch (e) {
    gf.showError(e);
  }
}

async function start() {
  const runs = (await gf.api("/api/runs")).filter(r => r.hasCheckpoint);
  const select = $("run");
  select.replaceChildren(...runs.map(r => gf.el("option", { value: r.name }, r.name)));
  if (runs.length === 0) { gf.showError(new Error("No run has a checkpoint yet.")); return; }
  const wanted = new URLSearchParams(location.search).get("run");
  if (wanted && runs.some(r => r.name === wanted)) select.value = wanted;
  select.addEventListener("change", () => pick(select.value));
  await pick(select.value);
}

for (const id of ["seed", "psi", "to", "t"]) $(id).addEventListener("input", render);
$("random").addEventListener("click", () => { $("seed").value = Math.floor(Math.random() * 1e6); render(); });
$("reset").addEventListener("click", () => {
  document.querySelectorAll("#directions input, #codes input").forEach(i => i.value = 0);
  $("psi").value = 1; $("t").value = 0;
  render();
});
$("walk").addEventListener("click", () => {
  const p = conditions(new URLSearchParams({ seed: $("seed").value, to: $("to").value, steps: 8, psi: $("psi").value, d: offsets().join(",") }));
  $("strip").src = `/api/explore/${encodeURIComponent(model.run)}/walk.png?${p}`;
});

start().catch(gf.showError);
