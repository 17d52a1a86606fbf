// A judge's sitting: one image (or one pair) at a time, an answer each, progress, and the score at the end.
// The judge's id is kept in this browser, so a reload continues where it stopped.
"use strict";

const study = decodeURIComponent(location.pathname.split("/")[2] || "");
const key = `ganforge-judge-${study}`;
let judge = null, info = null, answered = new Set(), busy = false;

function nextItem() {
  if (info.pair) {
    for (let p = 0; p < info.images / 2; p++) if (!answered.has(2 * p)) return p;
  } else {
    for (let i = 0; i < info.images; i++) if (!answered.has(i)) return i;
  }
  return null;
}

function image(index) {
  return gf.el("img", { src: `/api/studies/${study}/images/${index}`, alt: `image ${index}`, "data-index": index });
}

function show(progress) {
  answered = new Set(progress.answered);
  const total = progress.total, done = progress.answered.length;
  const unit = info.pair ? 2 : 1;
  document.getElementById("bar").style.width = `${(100 * done) / total}%`;
  document.getElementById("progress").textContent = info.pair
    ? `pair ${Math.min(done / unit + 1, total / unit)} of ${total / unit}` : `image ${Math.min(done + 1, total)} of ${total}`;
  if (progress.correct !== null && progress.correct !== undefined) {
    document.getElementById("asking").hidden = true;
    document.getElementById("done").hidden = false;
    document.getElementById("question").textContent = "All done";
    document.getElementById("progress").textContent = `${total / unit} of ${total / unit} ${info.pair ? "pairs" : "images"} judged`;
    document.getElementById("score").textContent = `${progress.correct} / ${total}`;
    document.getElementById("score-detail").textContent =
      `${gf.pct(progress.correct / total)} of your answers were right${info.pair ? " (each pair counts as two images)" : ""}; 50% is what guessing gives.`;
    return;
  }
  const next = nextItem();
  const stage = document.getElementById("stage"), answers = document.getElementById("answers");
  document.getElementById("asking").hidden = false;
  if (info.pair) {
    document.getElementById("question").textContent = "Which image is real?";
    stage.className = "stage pair";
    const left = image(2 * next), right = image(2 * next + 1);
    left.addEventListener("click", () => answerPair(next, 2 * next));
    right.addEventListener("click", () => answerPair(next, 2 * next + 1));
    stage.replaceChildren(left, right);
    const a = gf.el("button", { class: "real", id: "left" }, "Left is real"), b = gf.el("button", { class: "real", id: "right" }, "Right is real");
    a.addEventListener("click", () => answerPair(next, 2 * next));
    b.addEventListener("click", () => answerPair(next, 2 * next + 1));
    answers.replaceChildren(a, b);
    document.getElementById("hint").textContent = "Click the real image, or press ← / →.";
  } else {
    stage.className = "stage";
    stage.replaceChildren(image(next));
    const real = gf.el("button", { class: "real", id: "real" }, "Real"), generated = gf.el("button", { class: "generated", id: "generated" }, "Generated");
    real.addEventListener("click", () => answer(next, "real"));
    generated.addEventListener("click", () => answer(next, "generated"));
    answers.replaceChildren(real, generated);
    document.getElementById("hint").textContent = "Keys: R for real, G for generated.";
  }
}

async function send(body) {
  if (busy) return;
  busy = true;
  try {
    show(await gf.post(`/api/studies/${study}/judgments`, { judge, ...body }));
    gf.showError(null);
  } catch (e) {
    gf.showError(e);
  } finally {
    busy = false;
  }
}

const answer = (image, choice) => send({ image, answer: choice });
const answerPair = (pair, real) => send({ pair, real });

document.addEventListener("keydown", event => {
  if (!info || document.getElementById("asking").hidden) return;
  const next = nextItem();
  if (next === null) return;
  if (!info.pair && event.key.toLowerCase() === "r") answer(next, "real");
  if (!info.pair && event.key.toLowerCase() === "g") answer(next, "generated");
  if (info.pair && event.key === "ArrowLeft") answerPair(next, 2 * next);
  if (info.pair && event.key === "ArrowRight") answerPair(next, 2 * next + 1);
});

async function start() {
  info = await gf.api(`/api/studies/${study}`);
  judge = localStorage.getItem(key);
  if (judge) {
    try { show(await gf.api(`/api/studies/${study}/judges/${judge}`)); return; } catch { judge = null; }
  }
  judge = (await gf.post(`/api/studies/${study}/judges`)).judge;
  localStorage.setItem(key, judge);
  show(await gf.api(`/api/studies/${study}/judges/${judge}`));
}

start().catch(gf.showError);
