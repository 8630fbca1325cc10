// Replays a recording (an NDJSON file of steps, docs/inspector.md) one step at a time: the step's states are
// marked on its machine's diagram, where it came from and where it went.
import { $ } from "./page-tools.js";

let steps = [];
let at = 0;

/** The steps of an NDJSON text; a line that is not a step refuses the whole file, naming the line. */
function parse(text) {
  const parsed = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let step;
    try {
      step = JSON.parse(line);
    } catch {
      throw new Error(`line ${index + 1} is not JSON`);
    }
    const fine =
      typeof step === "object" &&
      step !== null &&
      typeof step.actor?.kind === "string" &&
      typeof step.actor?.key === "string" &&
      ["timestamp", "event", "from", "to"].every((field) => typeof step[field] === "string");
    if (!fine) throw new Error(`line ${index + 1} is not a step {timestamp, actor, event, from, to}`);
    parsed.push(step);
  });
  if (parsed.length === 0) throw new Error("the file holds no step");
  return parsed;
}

/** The active leaves of a step's `from` or `to` (parallel states are listed with ", "). */
const leaves = (states) => states.split(", ").filter((state) => state !== "");

function mark(diagram, states, className) {
  for (const state of leaves(states)) {
    diagram.querySelector(`[data-state="${CSS.escape(state)}"]`)?.classList.add(className);
  }
}

function show() {
  for (const marked of document.querySelectorAll(".replay-from, .replay-to")) {
    marked.classList.remove("replay-from", "replay-to");
  }
  const step = steps[at];
  $("replay-back").disabled = step === undefined || at === 0;
  $("replay-forward").disabled = step === undefined || at === steps.length - 1;
  if (step === undefined) return;
  $("replay-position").textContent = `step ${at + 1} of ${steps.length}`;
  $("replay-step").textContent =
    `${step.timestamp} ${step.actor.kind} ${step.actor.key} ${step.event}: ${step.from} → ${step.to}`;
  const section = document.querySelector(`section.machine[data-machine="${CSS.escape(step.actor.kind)}"]`);
  const diagram = section?.querySelector(".diagram");
  if (diagram === undefined || diagram === null) {
    $("replay-step").textContent += ` (no diagram of ${step.actor.kind} here)`;
    return;
  }
  mark(diagram, step.from, "replay-from");
  mark(diagram, step.to, "replay-to");
  section.scrollIntoView({ block: "nearest" });
}

function move(delta) {
  at = Math.min(Math.max(at + delta, 0), steps.length - 1);
  show();
}

async function load(file) {
  try {
    steps = parse(await file.text());
    at = 0;
    show();
  } catch (error) {
    steps = [];
    show();
    $("replay-position").textContent = `not loaded: ${error.message}`;
    $("replay-step").textContent = "";
  }
}

$("replay-file").addEventListener("change", (event) => {
  const file = event.target.files?.[0];
  if (file !== undefined) void load(file);
});
$("replay-back").addEventListener("click", () => move(-1));
$("replay-forward").addEventListener("click", () => move(1));
$("replay").addEventListener("keydown", (event) => {
  if (event.key === "ArrowLeft") move(-1);
  if (event.key === "ArrowRight") move(1);
});
show();
