import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineEndpoint } from "../support/engines.js";
import { type InspectorWorld, startInspectorWorld } from "./inspector-fixture.js";

/**
 * `/inspector` in headless Chromium against the real embedded platform: the counts the page shows per
 * machine state are the actors that exist, a picked connection's transitions appear live, the ring
 * section lists the embedded node, a recording started from the page downloads as NDJSON, and its file
 * replays step by step on the diagram. Screenshots go to test-results/inspector/.
 */
const CHROMIUM = "/usr/bin/chromium";
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
const SCREENSHOTS = join(process.cwd(), "test-results", "inspector");
const UI_TIMEOUT_MS = 20_000;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === "true") {
    describe("the inspector page", () => {
      it("needs Chromium under CI", () => {
        throw new Error(
          `${CHROMIUM} is missing: under CI=true the browser suite must run (apt-get install chromium)`,
        );
      });
    });
  } else {
    console.warn(
      `[browser] ${CHROMIUM} is missing: skipping the inspector page suite (apt-get install chromium)`,
    );
  }
}

const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");

/** The page's document, for the functions that run inside it (this project's TypeScript has no DOM lib). */
interface PageNode {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode>;
};

describe.skipIf(!haveChromium || !dynamodb || !redis)("the inspector page", () => {
  let world: InspectorWorld;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    world = await startInspectorWorld({ dynamodb: dynamodb ?? "", redis: redis ?? "" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    page.on("pageerror", (error) => console.error("[page error]", error));
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  /** Waits until the text of `selector` is `expected`. */
  const shows = (selector: string, expected: string) =>
    page.waitForFunction(
      ([css, text]) => document.querySelector(css as string)?.textContent === text,
      [selector, expected],
      { timeout: UI_TIMEOUT_MS, polling: 100 },
    );

  /** Waits until some element of `selector` contains every one of `parts`. */
  const listed = (selector: string, parts: string[]) =>
    page.waitForFunction(
      ([css, wanted]) =>
        Array.from(document.querySelectorAll(css as string)).some((node) =>
          (wanted as string[]).every((part) => (node.textContent ?? "").includes(part)),
        ),
      [selector, parts],
      { timeout: UI_TIMEOUT_MS, polling: 100 },
    );

  const liveCount = (kind: string, state: string) =>
    `table.counts[data-machine="${kind}"] tr[data-state="${state}"] .live-count`;
  const diagramCount = (kind: string, state: string) =>
    `section.machine[data-machine="${kind}"] svg [data-state="${state}"] > .count`;

  it("shows per-state counts that match the actors, and the ring with the embedded node", async () => {
    await world.alice.peer.sendMessage(world.chatId, "hello");
    await world.bob.peer.sendMessage(world.chatId, "hi alice");
    await page.goto(`${world.platform.internalUrl}/inspector`);

    await shows(liveCount("connection", "established"), "2");
    await shows(liveCount("connection", "established.liveness.alive"), "2");
    await shows(liveCount("connection", "established.flow.normal"), "2");
    await shows(liveCount("sequencer", "ready.idle"), "1");
    // The same numbers on the drawings themselves.
    await shows(diagramCount("connection", "established.liveness.alive"), "2");
    await shows(diagramCount("sequencer", "ready.idle"), "1");
    // Nothing counted where no actor is.
    expect(await page.textContent(diagramCount("connection", "closing"))).toBe("");

    const ingest = world.platform.ingestNodeId ?? "";
    await listed(`#ring-members tr[data-node="${ingest}"]`, [ingest, "active", "yes"]);
    await listed("#ring-nodes li", [ingest, "(ingest)"]);
    await page.screenshot({ path: join(SCREENSHOTS, "overview.png"), fullPage: true });
  });

  it("streams a picked connection's transitions live as it heartbeats and disconnects", async () => {
    const key = world.alice.connectionId;
    await page.click(`#actor-rows tr[data-key="${key}"] button.watch`);
    await listed("#watch-title", [key, "established.liveness.alive"]);

    world.alice.peer.send("heartbeat", {});
    await listed("#steps li", ["HEARTBEAT", "established.liveness.alive"]);
    await page.screenshot({ path: join(SCREENSHOTS, "watching.png"), fullPage: true });

    world.alice.peer.close();
    await listed("#steps li", ["SOCKET_CLOSED", "→ closed", "(ended)"]);
    await shows(liveCount("connection", "established"), "1");
    await page.screenshot({ path: join(SCREENSHOTS, "disconnected.png"), fullPage: true });
  });

  it("records a connection from the page, downloads its NDJSON, and replays it on the diagram", async () => {
    const key = world.bob.connectionId;
    await page.click(`#actor-rows tr[data-key="${key}"] button.watch`);
    await page.fill('#record-form input[name="max_events"]', "2");
    await page.click('#record-form button[type="submit"]');
    await listed("#recording-rows tr", [`connection ${key}`, "recording"]);
    world.bob.peer.send("heartbeat", {});
    world.bob.peer.send("heartbeat", {});
    await listed("#recording-rows tr", [`connection ${key}`, "done (max events)", "2"]);

    const link = page.locator(`#recording-rows tr:has-text("${key}") a.download`).first();
    const href = (await link.getAttribute("href")) ?? "";
    expect(await link.getAttribute("download")).toMatch(/^connection-.+\.ndjson$/);
    const ndjson = await (await fetch(`${world.platform.internalUrl}${href}`)).text();
    expect(ndjson.trimEnd().split("\n")).toHaveLength(2);
    // The machines can be taken away too.
    expect(
      await page.getAttribute('section.machine[data-machine="connection"] a.download.json', "download"),
    ).toBe("connection.json");

    // A recording changes state only at its end: make the replay's second step a different one.
    const [first] = ndjson.trimEnd().split("\n");
    const closing = {
      ...(JSON.parse(first ?? "{}") as Record<string, unknown>),
      event: "CLOSE",
      to: "closing",
    };
    await page.setInputFiles("#replay-file", {
      name: "replayed.ndjson",
      mimeType: "application/x-ndjson",
      buffer: Buffer.from(`${first}\n${JSON.stringify(closing)}\n`),
    });
    await shows("#replay-position", "step 1 of 2");
    const marked = (className: string) =>
      page.waitForFunction(
        ([kind, css]) =>
          Array.from(
            document.querySelectorAll(`section.machine[data-machine="${kind}"] svg .${css as string}`),
          ).map((node) => node.getAttribute("data-state")),
        ["connection", className],
        { timeout: UI_TIMEOUT_MS, polling: 100 },
      );
    expect(await (await marked("replay-to")).jsonValue()).toEqual([
      "established.liveness.alive",
      "established.flow.normal",
    ]);
    await page.click("#replay-forward");
    await shows("#replay-position", "step 2 of 2");
    await listed("#replay-step", ["CLOSE", "→ closing"]);
    expect(await (await marked("replay-to")).jsonValue()).toEqual(["closing"]);
    expect(await (await marked("replay-from")).jsonValue()).toEqual([
      "established.liveness.alive",
      "established.flow.normal",
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, "replay.png"), fullPage: true });
    await page.click("#replay-back");
    await shows("#replay-position", "step 1 of 2");
  });
});
