import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningPlatform, startPlatform } from "../../app/platform.js";
import { SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { createLogger } from "../../runtime/logger.js";
import { uniqueName } from "../support/engines.js";

/**
 * The browser client end to end: the real platform process (REST /api/v1, WebSocket /v1/ws, fanout) on port
 * 0, two Chromium contexts as two people. Nothing is faked; waits are conditions with deadlines.
 */
const CHROMIUM = "/usr/bin/chromium";
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
const SCREENSHOTS = join(process.cwd(), "test-results", "browser");

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === "true") {
    describe("the browser client", () => {
      it("needs Chromium under CI", () => {
        throw new Error(
          `${CHROMIUM} is missing: under CI=true the browser suite must run (apt-get install chromium)`,
        );
      });
    });
  } else {
    console.warn(
      `[browser] ${CHROMIUM} is missing: skipping the browser client suite (apt-get install chromium)`,
    );
  }
}

/** A phone number no other run uses (E.164, +1 555 …). */
const phone = (): string => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

const UI_TIMEOUT_MS = 20_000;

/** The page's globals, for the functions that run inside it (this project's TypeScript has no DOM lib). */
interface PageNode {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode>;
};
declare const localStorage: { getItem(key: string): string | null };

describe.skipIf(!haveChromium)("the browser client", () => {
  let platform: RunningPlatform;
  let browser: Browser;
  /** Where the page is opened: the platform itself, which serves it at `/`. */
  let baseUrl: string;
  const dataDir = mkdtempSync(join(tmpdir(), "web-"));

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const env: Record<string, string> = {
      PORT: "0",
      TABLE_PREFIX: uniqueName("web_"),
      NODE_ID: uniqueName("web-"),
      DATA_DIR: dataDir,
    };
    // The shared engines when they run (npm test starts them); else the platform's embedded dynalite.
    if (process.env.DYNAMODB_ENDPOINT) env.DYNAMODB_ENDPOINT = process.env.DYNAMODB_ENDPOINT;
    platform = await startPlatform(loadConfig({ env }), createLogger({ level: "silent" }), new SystemClock());
    baseUrl = platform.baseUrl;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop(0);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPerson(
    viewport = { width: 1200, height: 800 },
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error("[page error]", error));
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") console.warn("[page]", message.text());
    });
    return { context, page };
  }

  async function signIn(page: Page, number: string, name: string, screenshot?: string): Promise<void> {
    await page.goto(`${baseUrl}/`);
    await page.fill("#phone", number);
    await page.click("#send-code");
    // Dev mode: the page reads the code from /api/v1/dev/otp and fills it in.
    await page.waitForSelector("#dev-code:not([hidden])", { timeout: UI_TIMEOUT_MS });
    expect(await page.inputValue("#code")).toMatch(/^\d{6}$/);
    await page.fill("#display-name", name);
    if (screenshot !== undefined) await page.screenshot({ path: join(SCREENSHOTS, screenshot) });
    await page.click("#verify-code");
    await connectionIs(page, "online");
  }

  const connectionIs = (page: Page, state: string) =>
    page.waitForSelector(`#connection[data-state="${state}"]`, { timeout: UI_TIMEOUT_MS });

  async function send(page: Page, text: string): Promise<void> {
    await page.fill("#composer-input", text);
    await page.press("#composer-input", "Enter");
  }

  /** The conversation as shown: [sequence, text, status] of every stored message, in page order. */
  const shown = (page: Page) =>
    page.$$eval("#message-list .message[data-sequence]", (items) =>
      items.map((item) => [
        Number(item.getAttribute("data-sequence")),
        item.querySelector(".message-text")?.textContent ?? "",
        item.getAttribute("data-status") ?? "",
      ]),
    ) as Promise<Array<[number, string, string]>>;

  async function waitForTexts(page: Page, texts: string[]): Promise<void> {
    await page.waitForFunction(
      (wanted) => {
        const nodes = document.querySelectorAll("#message-list .message[data-sequence] .message-text");
        const have = Array.from(nodes, (node) => node.textContent);
        return wanted.every((text) => have.includes(text));
      },
      texts,
      { timeout: UI_TIMEOUT_MS, polling: 100 },
    );
  }

  it("two people chat live, one goes offline and catches up in order without duplicates, ticks update", async () => {
    const alicePhone = phone();
    const bobPhone = phone();
    const alice = await newPerson();
    const bob = await newPerson();
    await signIn(alice.page, alicePhone, "Alice", "sign-in.png");
    await signIn(bob.page, bobPhone, "Bob");

    // Alice starts a direct chat with Bob by his phone number.
    await alice.page.click("#new-chat");
    await alice.page.fill("#new-chat-members", bobPhone);
    await alice.page.click("#create-chat");
    await alice.page.waitForSelector("#composer:not([hidden])", { timeout: UI_TIMEOUT_MS });
    expect(await alice.page.textContent("#chat-title")).toBe("Bob");

    // Live: Alice's first message reaches Bob; the chat appears in his list with it.
    await send(alice.page, "Hi Bob!");
    await alice.page.waitForSelector(
      '.message.mine[data-status="sent"], .message.mine[data-status="delivered"]',
      {
        timeout: UI_TIMEOUT_MS,
      },
    );
    const bobsChat = await bob.page.waitForSelector(".chat-item", { timeout: UI_TIMEOUT_MS });
    expect(await bobsChat.textContent()).toContain("Alice");
    await bobsChat.click();
    await waitForTexts(bob.page, ["Hi Bob!"]);
    await send(bob.page, "Hello Alice");
    await waitForTexts(alice.page, ["Hello Alice"]);

    // Bob goes offline; Alice sends several messages meanwhile.
    await bob.context.setOffline(true);
    await connectionIs(bob.page, "offline");
    const whileAway = ["one", "two", "three", "four", "five"].map((word) => `while you were away: ${word}`);
    for (const text of whileAway) await send(alice.page, text);
    await waitForTexts(alice.page, whileAway);
    await alice.page.waitForFunction(
      () => document.querySelectorAll('#message-list .message[data-status="pending"]').length === 0,
      undefined,
      { timeout: UI_TIMEOUT_MS },
    );
    // Stored (✓) but not delivered (✓✓) while Bob's device cannot acknowledge them: give Alice's page a few
    // delivery polls (every 2 s) to be sure none turns into ✓✓.
    await alice.page.waitForTimeout(4_500);
    const whileAwayTicks = (await shown(alice.page)).filter(([, text]) => whileAway.includes(text));
    expect(whileAwayTicks.map(([, , status]) => status)).toEqual(whileAway.map(() => "sent"));
    // Bob writes while offline: kept on his device (◷) until the connection is back.
    await send(bob.page, "typed while offline");
    await bob.page.waitForSelector('.message.mine[data-status="pending"]', { timeout: UI_TIMEOUT_MS });
    await bob.page.screenshot({ path: join(SCREENSHOTS, "bob-offline.png") });

    // Bob comes back: reconnects, syncs, shows everything once and in sequence order.
    await bob.context.setOffline(false);
    await connectionIs(bob.page, "online");
    await waitForTexts(bob.page, whileAway);
    // His queued message goes out after the sync, so it is ordered after what he missed.
    await waitForTexts(alice.page, ["typed while offline"]);
    await waitForTexts(bob.page, ["typed while offline"]);
    const expected = ["Hi Bob!", "Hello Alice", ...whileAway, "typed while offline"];
    for (const page of [alice.page, bob.page]) {
      const messages = await shown(page);
      expect(messages.map(([, text]) => text)).toEqual(expected);
      const sequences = messages.map(([sequence]) => sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(sequences.length);
    }

    // Ticks: ✓ on the ack, then ✓✓ once Bob's device acknowledged it (his batched cumulative ack, which Alice's
    // page reads back from the members' delivery state of GET /chats/{id}).
    await alice.page.waitForFunction(
      () => {
        const mine = Array.from(document.querySelectorAll("#message-list .message.mine"));
        return mine.length === 6 && mine.every((item) => item.getAttribute("data-status") === "delivered");
      },
      undefined,
      { timeout: 30_000, polling: 200 },
    );
    const aliceView = await shown(alice.page);
    expect(aliceView.filter(([, , status]) => status === "delivered")).toHaveLength(6);
    expect(aliceView.find(([, text]) => text === "Hello Alice")?.[2]).toBe("received");

    await alice.page.screenshot({ path: join(SCREENSHOTS, "alice-laptop.png") });
    await bob.page.screenshot({ path: join(SCREENSHOTS, "bob-laptop.png") });

    // After a reload Bob's device shows the same conversation from local storage plus sync, still no duplicates.
    await bob.page.reload();
    await connectionIs(bob.page, "online");
    await bob.page.click(".chat-item");
    await waitForTexts(bob.page, expected);
    expect((await shown(bob.page)).map(([, text]) => text)).toEqual(expected);

    // Phone width: one pane at a time.
    await bob.page.setViewportSize({ width: 390, height: 780 });
    await bob.page.screenshot({ path: join(SCREENSHOTS, "bob-phone.png") });
    expect(await bob.page.isVisible(".sidebar")).toBe(false);
    await bob.page.click("#back");
    expect(await bob.page.isVisible(".sidebar")).toBe(true);
    expect(await bob.page.isVisible("#composer")).toBe(false);
    await bob.page.screenshot({ path: join(SCREENSHOTS, "bob-phone-list.png") });

    await alice.context.close();
    await bob.context.close();
  }, 120_000);

  it("refreshes the tokens once on a 401 token_expired and retries the request", async () => {
    const person = await newPerson();
    await signIn(person.page, phone(), "Fay");
    const tokensOf = () =>
      person.page.evaluate(() => JSON.parse(localStorage.getItem("mp.session") ?? "{}").tokens) as Promise<{
        access_token: string;
        refresh_token: string;
      }>;
    const before = await tokensOf();
    // The trigger is the one synthetic answer here: the next chat list request is refused as if the access
    // token had expired. The refresh and the retried request go to the real server.
    let refused = 0;
    await person.context.route(
      (url) => url.pathname === "/api/v1/chats",
      async (route) => {
        if (refused++ > 0) return route.continue();
        return route.fulfill({
          status: 401,
          contentType: "application/json",
          body: JSON.stringify({
            error: {
              code: "UNAUTHORIZED",
              message: "the access token expired",
              details: { reason: "token_expired" },
              request_id: "synthetic",
            },
          }),
        });
      },
    );
    const refreshed = person.page.waitForResponse(
      (response) => response.url().endsWith("/api/v1/auth/refresh") && response.status() === 200,
      { timeout: UI_TIMEOUT_MS },
    );
    const retried = person.page.waitForResponse(
      (response) => new URL(response.url()).pathname === "/api/v1/chats" && response.status() === 200,
      { timeout: UI_TIMEOUT_MS },
    );
    await person.page.reload();
    await refreshed;
    const retry = await retried;
    expect(retry.request().headers().authorization).not.toBe(`Bearer ${before.access_token}`);
    const after = await tokensOf();
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(retry.request().headers().authorization).toBe(`Bearer ${after.access_token}`);
    await connectionIs(person.page, "online");
    expect(await person.page.isVisible("#login")).toBe(false);
    await person.context.close();
  }, 60_000);

  it("creates a group, adds a member by user id and delivers to all members", async () => {
    const people = await Promise.all([newPerson(), newPerson(), newPerson()]);
    const phones = [phone(), phone(), phone()];
    const names = ["Carol", "Dan", "Erin"];
    for (const [index, person] of people.entries()) {
      await signIn(person.page, phones[index] ?? "", names[index] ?? "");
    }
    const [carol, dan, erin] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]];
    const erinId = await erin.page.evaluate(
      () => JSON.parse(localStorage.getItem("mp.session") ?? "{}").user.user_id,
    );

    await carol.page.click("#new-chat");
    await carol.page.check('input[name="type"][value="group"]');
    await carol.page.fill("#group-name", "Weekend plans");
    await carol.page.fill("#new-chat-members", phones[1] ?? "");
    await carol.page.click("#create-chat");
    await carol.page.waitForSelector("#add-member:not([hidden])", { timeout: UI_TIMEOUT_MS });
    await carol.page.click("#add-member");
    await carol.page.fill("#add-member-input", erinId);
    await carol.page.click("#confirm-add-member");
    await carol.page.waitForFunction(
      () => document.querySelector("#chat-subtitle")?.textContent?.includes("Erin"),
      undefined,
      {
        timeout: UI_TIMEOUT_MS,
      },
    );

    await send(carol.page, "Hike on Saturday?");
    for (const person of [dan, erin]) {
      const item = await person.page.waitForSelector(".chat-item", { timeout: UI_TIMEOUT_MS });
      expect(await item.textContent()).toContain("Weekend plans");
      await item.click();
      await waitForTexts(person.page, ["Hike on Saturday?"]);
    }
    await send(dan.page, "I'm in");
    await waitForTexts(carol.page, ["I'm in"]);
    await waitForTexts(erin.page, ["I'm in"]);
    expect(await erin.page.textContent("#message-list")).toContain("Dan");
    await erin.page.screenshot({ path: join(SCREENSHOTS, "erin-group.png") });
    for (const person of people) await person.context.close();
  }, 120_000);
});
