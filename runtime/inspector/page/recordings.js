// Recordings of transitions: start one (an actor, or every actor of a kind, for a time and at most a number
// of steps), follow it, stop it, and download its NDJSON (docs/inspector.md).
import { $, answerOf, element, withToken } from "./page-tools.js";

const API = "/inspector/api/recordings";

/** Offers the kinds whose actors can be recorded (from the snapshot), keeping the one chosen. */
export function offerKinds(machines) {
  const select = $("record-form").elements.kind;
  const kinds = machines.filter((machine) => machine.recordable).map((machine) => machine.kind);
  const current = [...select.options].map((option) => option.value);
  if (current.join() === kinds.join()) return;
  const chosen = select.value;
  select.replaceChildren(...kinds.map((kind) => element("option", { value: kind }, kind)));
  if (kinds.includes(chosen)) select.value = chosen;
}

/** Fills the form with a watched actor, so that recording it is one click. */
export function suggestActor(kind, key) {
  const form = $("record-form");
  form.elements.kind.value = kind;
  form.elements.key.value = key;
}

export async function refreshRecordings() {
  const recordings = await answerOf(await fetch(withToken(API), { cache: "no-store" }));
  $("recording-rows").replaceChildren(...recordings.map(row));
}

function row(recording) {
  const actor = recording.key === null ? `every ${recording.kind}` : `${recording.kind} ${recording.key}`;
  const status =
    recording.status === "recording" ? "recording…" : `done (${recording.stop_reason.replace("_", " ")})`;
  const actions = element("td");
  const download = element(
    "a",
    { class: "download", href: withToken(recording.download), download: recording.file_name },
    "NDJSON",
  );
  actions.append(download);
  if (recording.status === "recording") {
    const stop = element("button", { type: "button", class: "stop" }, "stop");
    stop.addEventListener("click", async () => {
      await fetch(withToken(`${API}/${recording.id}/stop`), { method: "POST" });
      await refreshRecordings();
    });
    actions.append(" ", stop);
  }
  return element(
    "tr",
    { "data-recording": recording.id, "data-status": recording.status },
    element("td", { class: "key" }, actor),
    element("td", { class: "status" }, status),
    element("td", { class: "n events" }, recording.events),
    actions,
  );
}

async function start(event) {
  event.preventDefault();
  const form = new FormData($("record-form"));
  const key = String(form.get("key") ?? "").trim();
  const body = {
    kind: String(form.get("kind")),
    ...(key === "" ? {} : { key }),
    duration_ms: Math.round(Number(form.get("duration_s")) * 1000),
    max_events: Number(form.get("max_events")),
  };
  try {
    await answerOf(
      await fetch(withToken(API), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    $("record-error").textContent = "";
    await refreshRecordings();
  } catch (error) {
    $("record-error").textContent = `not started: ${error.message}`;
  }
}

$("record-form").addEventListener("submit", (event) => void start(event));
