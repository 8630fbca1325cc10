import { SERVER_MACHINES } from "../../app/machines.js";
import type { DrawnMachine } from "../../runtime/inspector/machine-catalog.js";
import { machineGraph } from "../../runtime/inspector/machine-graph.js";
import { toMermaid } from "../../runtime/inspector/machine-mermaid.js";
import { toSvg } from "../../runtime/inspector/machine-svg.js";
import { clientMachine } from "../harness/client.machine.js";

/** Where `npm run machines` writes, relative to the repository. */
export const MACHINES_DIR = "docs/machines";

/** Every machine the project draws: the server's actors and the reference client of test/harness. */
export const DOCUMENTED_MACHINES: readonly DrawnMachine[] = [
  ...SERVER_MACHINES,
  {
    name: "reference-client",
    title: "Reference client lifecycle",
    source: "test/harness/client.machine.ts",
    machine: clientMachine,
  },
];

/** The files of docs/machines/ by name: `<name>.mmd` and `<name>.svg` per machine, and the index. */
export function machineDocs(machines: readonly DrawnMachine[] = DOCUMENTED_MACHINES): Map<string, string> {
  const files = new Map<string, string>();
  for (const drawn of machines) {
    const graph = machineGraph(drawn.machine);
    files.set(`${drawn.name}.mmd`, toMermaid(graph, drawn.title, drawn.source));
    files.set(`${drawn.name}.svg`, toSvg(graph, drawn.title));
  }
  files.set("README.md", indexOf(machines));
  return files;
}

function indexOf(machines: readonly DrawnMachine[]): string {
  const lines = [
    "# State machines",
    "",
    "Drawn from the machines' definitions by `npm run machines` (do not edit these files; a test fails when a",
    "machine changes and its drawing is stale). The inspector (`/inspector`) shows the same drawings with live",
    "counts of actors per state.",
    "",
    "| Machine | Defined in | Diagram | Mermaid |",
    "|---|---|---|---|",
    ...machines.map(
      (drawn) =>
        `| ${drawn.title} | \`${drawn.source}\` | [${drawn.name}.svg](${drawn.name}.svg) | [${drawn.name}.mmd](${drawn.name}.mmd) |`,
    ),
    "",
    ...machines.flatMap((drawn) => [`## ${drawn.title}`, "", `![${drawn.title}](${drawn.name}.svg)`, ""]),
  ];
  return `${lines.join("\n")}`;
}
