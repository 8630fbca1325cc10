import { readdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webRoute } from "../../chatmgmt/web/web-route.js";
import { createHttpServer, type HttpServer } from "../../runtime/http/server.js";
import { createLogger } from "../../runtime/logger.js";

const WEB_DIR = join(process.cwd(), "chatmgmt", "web");

/** The browser client's route on the process's shared HTTP server, with a sentinel route after it. */
let http: HttpServer;
let port: number;

beforeAll(async () => {
  http = createHttpServer(createLogger({ level: "silent" }));
  http.addRoute(webRoute());
  http.addRoute((_request, response) => {
    response.writeHead(299, { "content-type": "text/plain" }).end("next route");
    return true;
  });
  port = ((await http.listen(0, "127.0.0.1")) as AddressInfo).port;
});

afterAll(() => http.close(0));

/** A request with the path sent exactly as written (fetch would normalise `..` away). */
function get(
  path: string,
  method = "GET",
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; cache: string; etag: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          type: String(response.headers["content-type"] ?? ""),
          cache: String(response.headers["cache-control"] ?? ""),
          etag: String(response.headers.etag ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("webRoute", () => {
  it("serves the page at / as HTML, uncached", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.type).toBe("text/html; charset=utf-8");
    expect(page.cache).toBe("no-cache");
    expect(page.body).toContain('<script type="module" src="/web/app.js">');
  });

  it("serves modules as JavaScript and the stylesheet as CSS", async () => {
    const modules = readdirSync(WEB_DIR).filter((name) => name.endsWith(".js"));
    expect(modules).toContain("app.js");
    for (const file of modules) {
      const module = await get(`/web/${file}`);
      expect(module.status, file).toBe(200);
      expect(module.type).toBe("text/javascript; charset=utf-8");
      expect(module.cache).toBe("no-cache");
    }
    const css = await get("/web/style.css?v=1");
    expect(css.status).toBe(200);
    expect(css.type).toBe("text/css; charset=utf-8");
  });

  it("answers a revalidation of an unchanged file with 304 and no body", async () => {
    const first = await get("/web/app.js");
    expect(first.etag).toMatch(/^"[\w-]+"$/);
    const again = await get("/web/app.js", "GET", { "if-none-match": first.etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe("");
    expect((await get("/web/app.js", "GET", { "if-none-match": '"stale"' })).status).toBe(200);
  });

  it("refuses paths that leave the web folder, plain or percent-encoded", async () => {
    for (const path of [
      "/web/../package.json",
      "/web/..%2f..%2fpackage.json",
      "/web/%2e%2e/%2e%2e/package.json",
      "/web/..\\..\\package.json",
      "/web//etc/passwd",
      "/web/.hidden.js",
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain('"name": "messaging-platform"');
    }
  });

  it("answers 404 for files it does not serve, including its own TypeScript source", async () => {
    expect((await get("/web/web-route.ts")).status).toBe(404);
    expect((await get("/web/missing.js")).status).toBe(404);
    expect((await get("/web/")).status).toBe(404);
  });

  it("leaves every other path and method to the next route", async () => {
    for (const [path, method] of [
      ["/api/v1/chats", "GET"],
      ["/health", "GET"],
      ["/v1/ws", "GET"],
      ["/webx/app.js", "GET"],
      ["/", "POST"],
    ] as const) {
      const answer = await get(path, method);
      expect(answer.status, `${method} ${path}`).toBe(299);
      expect(answer.body).toBe("next route");
    }
  });
});
