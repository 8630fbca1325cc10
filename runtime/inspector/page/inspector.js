// The inspector page: polls /inspector/api/snapshot for counts, actors and the ring, watches one actor over
// /inspector/ws, and lists recordings (recordings.js); replay.js replays a recording's file on the diagrams. Plain DOM, no framework; every value from the server is set as text, never as HTML
// (the diagrams excepted: they are this server's own drawings).

import { $, answerOf, element, withToken } from "./page-tools.js";
import { offerKinds, refreshRecordings, suggestActor } from "./recordings.js";
import "./replay.js";

const POLL_MS = 2000;
const MAX_STEPS = 200;

const diagrams = new Map();
let watched;
let socket;
let socketDelayMs = 1000;

function loadDiagram(machine) {
  // One load per machine, even when two refreshes overlap.
  let box = diagrams.get(machine.name);
  if (box === undefined) {
    box = drawDiagram(machine);
    diagrams.set(machine.name, box);
  }
  return box;
}

async function drawDiagram(machine) {
  const section = element("section", { class: "machine", "data-machine": machine.kind });
  const downloads = element(
    "span",
    { class: "downloads" },
    element(
      "a",
      {
        class: "download svg",
        href: withToken(`${machine.diagram}?download=1`),
        download: `${machine.name}.svg`,
      },
      "SVG",
    ),
    " ",
    element(
      "a",
      { class: "download json", href: withToken(machine.definition), download: `${machine.name}.json` },
      "XState JSON",
    ),
  );
  section.append(element("h2", {}, `${machine.title} `, element("span", { class: "live" }), downloads));
  const diagram = element("div", { class: "diagram" });
  const response = await fetch(withToken(machine.diagram));
  diagram.innerHTML = await response.text();
  section.append(diagram);
  const counts = element("table", { class: "counts", "data-machine": machine.kind });
  counts.append(
    element(
      "thead",
      {},
      element("tr", {}, element("th", {}, "state"), element("th", {}, "live"), element("th", {}, "ended")),
    ),
  );
  counts.append(element("tbody"));
  section.append(counts);
  $("machines").append(section);
  return { section, diagram, counts };
}

async function renderMachines(machines) {
  for (const machine of machines) {
    const { section, diagram, counts } = await loadDiagram(machine);
    section.querySelector(".live").textContent = `— ${machine.live} live`;
    for (const state of diagram.querySelectorAll("[data-state]")) {
      const count = machine.counts[state.getAttribute("data-state")] ?? 0;
      const label = state.querySelector(".count");
      if (label !== null) label.textContent = count > 0 ? String(count) : "";
      state.classList.toggle("occupied", count > 0);
    }
    const rows = [];
    const states = new Set([...Object.keys(machine.counts), ...Object.keys(machine.ended)]);
    for (const state of [...states].sort()) {
      rows.push(
        element(
          "tr",
          { "data-state": state },
          element("td", {}, state),
          element("td", { class: "n live-count" }, machine.counts[state] ?? 0),
          element("td", { class: "n ended-count" }, machine.ended[state] ?? 0),
        ),
      );
    }
    counts.tBodies[0].replaceChildren(...rows);
  }
}

function renderActors(actors) {
  $("actor-total").textContent =
    `${actors.total} actor${actors.total === 1 ? "" : "s"}${actors.total > actors.items.length ? `, first ${actors.items.length} shown` : ""}`;
  const rows = actors.items.map((actor) => {
    const isWatched = watched !== undefined && watched.kind === actor.kind && watched.key === actor.key;
    const row = element(
      "tr",
      { "data-kind": actor.kind, "data-key": actor.key, class: isWatched ? "watched" : "" },
      element("td", {}, actor.kind),
      element("td", { class: "key" }, actor.key),
      element("td", { class: "state" }, actor.state),
    );
    const cell = element("td");
    if (actor.watchable) {
      const button = element("button", { type: "button", class: "watch" }, "watch");
      button.addEventListener("click", () => watch(actor.kind, actor.key));
      cell.append(button);
    }
    row.append(cell);
    return row;
  });
  $("actor-rows").replaceChildren(...rows);
}

function renderRing(ring) {
  if (ring.error !== undefined) {
    $("ring-summary").textContent = `ring unavailable: ${ring.error}`;
    return;
  }
  const counted = ring.chats_counted;
  $("ring-summary").textContent =
    `version ${ring.version}, ${ring.settled ? "settled" : "moving"}; chats per node from ${counted.examined} chat` +
    `${counted.examined === 1 ? "" : "s"}${counted.complete ? "" : " (the first ones of the table only)"}`;
  $("ring-members").replaceChildren(
    ...ring.members.map((member) =>
      element(
        "tr",
        { "data-node": member.node_id },
        element("td", {}, member.node_id),
        element("td", { class: "n" }, member.weight),
        element("td", {}, member.state),
        element("td", {}, member.live ? "yes" : "no"),
        element("td", {}, member.owner ? "yes" : "no"),
        element("td", { class: "n" }, `${Math.round(member.share * 1000) / 10}%`),
        element("td", { class: "n chats" }, member.chats),
        element("td", { class: "n active" }, member.active_actors ?? "–"),
        element("td", { class: "n" }, member.applied_version ?? "–"),
        element("td", { class: "n" }, member.handoffs_pending ?? "–"),
      ),
    ),
  );
  const moves = ring.moves_in_progress.map((move) =>
    element(
      "li",
      {},
      `${move.node_id}: ${move.handoffs_pending} handoffs pending, applied version ${move.applied_version ?? "–"}`,
    ),
  );
  $("ring-moves").replaceChildren(...(moves.length > 0 ? moves : [element("li", {}, "none")]));
  $("ring-nodes").replaceChildren(
    ...ring.live_nodes.map((node) =>
      element("li", { "data-node": node.node_id }, `${node.node_id} (${node.role}) at ${node.address}`),
    ),
  );
}

function snapshotPath() {
  const form = new FormData($("filter"));
  const params = new URLSearchParams();
  for (const [name, value] of form) if (value !== "") params.set(name, String(value));
  const query = params.toString();
  return withToken(`/inspector/api/snapshot${query === "" ? "" : `?${query}`}`);
}

async function refresh() {
  try {
    const snapshot = await answerOf(await fetch(snapshotPath(), { cache: "no-store" }));
    $("node").textContent = `${snapshot.node.node_id} (${snapshot.node.role})`;
    await renderMachines(snapshot.machines);
    offerKinds(snapshot.machines);
    await refreshRecordings();
    renderActors(snapshot.actors);
    renderRing(snapshot.ring);
    $("status").textContent = `updated ${snapshot.at}`;
    $("status").className = "";
  } catch (error) {
    $("status").textContent = `refresh failed: ${error.message}`;
    $("status").className = "error";
  }
}

function watch(kind, key) {
  watched = { kind, key };
  $("steps").replaceChildren();
  $("watch-title").textContent = `${kind} ${key}`;
  suggestActor(kind, key);
  for (const row of $("actor-rows").children) {
    row.classList.toggle("watched", row.dataset.kind === kind && row.dataset.key === key);
  }
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "watch", kind, key }));
}

function addStep(text, ended) {
  const steps = $("steps");
  steps.prepend(element("li", { class: ended ? "step ended" : "step" }, text));
  while (steps.children.length > MAX_STEPS) steps.lastElementChild.remove();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}${withToken("/inspector/ws")}`);
  socket.addEventListener("open", () => {
    socketDelayMs = 1000;
    if (watched !== undefined) socket.send(JSON.stringify({ type: "watch", ...watched }));
  });
  socket.addEventListener("message", (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "watching") {
      $("watch-title").textContent = `${frame.kind} ${frame.key}: ${frame.state ?? "not live"}`;
    } else if (frame.type === "step") {
      const dropped = frame.dropped > 0 ? ` (${frame.dropped} dropped before)` : "";
      addStep(
        `${frame.at.slice(11, 23)} ${frame.event}: ${frame.from} → ${frame.to}${frame.ended ? " (ended)" : ""}${dropped}`,
        frame.ended,
      );
      $("watch-title").textContent = `${frame.kind} ${frame.key}: ${frame.ended ? "ended" : frame.to}`;
    } else if (frame.type === "error") {
      addStep(`error: ${frame.message}`, true);
    }
  });
  socket.addEventListener("close", () => {
    setTimeout(connect, socketDelayMs);
    socketDelayMs = Math.min(socketDelayMs * 2, 10_000);
  });
}

$("filter").addEventListener("input", () => void refresh());
$("filter").addEventListener("submit", (event) => event.preventDefault());
connect();
await refresh();
setInterval(() => void refresh(), POLL_MS);
