import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayEnginesAvailable, gatewayFixture } from "../test/support/gateway-fixture.js";
import { connect, connected, newDevice, type RunningGateway } from "../test/support/gateway-harness.js";
import { JWT_AUDIENCE, JWT_ISSUER } from "./handshake.js";
import { remoteJwks } from "./jwt-keys.js";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe.skipIf(!gatewayEnginesAvailable())("WebSocket handshake at /v1/ws", () => {
  const gw = gatewayFixture();

  const now = () => gw.clock.now();
  const seconds = () => Math.floor(now() / 1000);

  async function refusal(options: Parameters<typeof connect>[1], path = gw.running.url) {
    const result = await connect(path, options);
    if (!("refusal" in result)) {
      result.client.close();
      throw new Error("the connection was accepted");
    }
    return result.refusal;
  }

  const invalidToken = async (token: string) => {
    const answer = await refusal({ token, deviceId: newDevice() });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe("invalid_token");
    expect(typeof answer.body.message).toBe("string");
    return answer;
  };

  it("a valid token and device id get connection_established with the documented payload", async () => {
    const userId = gw.ids.user();
    const deviceId = newDevice();
    const { client, established } = await connected(gw.running.url, {
      token: await gw.keys.token(userId, now()),
      deviceId,
    });
    expect(established.request_id).toBeUndefined();
    expect(established.payload).toMatchObject({
      user_id: userId,
      device_id: deviceId,
      heartbeat_interval_ms: 30_000,
      protocol_version: 1,
    });
    expect(established.payload.connection_id).toMatch(/^conn_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Date(String(established.payload.server_time)).getTime()).toBe(now());
    const entry = await gw.running.registry.getConnection(established.payload.connection_id as never);
    expect(entry).toMatchObject({ userId, deviceId });
    client.close();
  });

  it("the query-string fallback (?token=&device_id=) is accepted", async () => {
    const token = await gw.keys.token(gw.ids.user(), now());
    const result = await connected(gw.running.url, { query: `token=${token}&device_id=${newDevice()}` });
    result.client.close();
  });

  it("a missing device id answers 400 invalid_request", async () => {
    const answer = await refusal({ token: await gw.keys.token(gw.ids.user(), now()) });
    expect(answer).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });

  it("an Authorization header that is not Bearer answers 400 invalid_request", async () => {
    const answer = await refusal({ headers: { authorization: "Basic abc" }, deviceId: newDevice() });
    expect(answer).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });

  it("another protocol version answers 400 unsupported_version with the supported ones", async () => {
    const answer = await refusal(
      { token: await gw.keys.token(gw.ids.user(), now()), deviceId: newDevice() },
      gw.running.url.replace("/v1/", "/v2/"),
    );
    expect(answer).toEqual({
      status: 400,
      body: {
        error: "unsupported_version",
        message: expect.any(String),
        details: { supported_versions: [1], requested_version: 2 },
      },
    });
  });

  it("too many connects of one user answer 429 rate_limited with retry_after_seconds", async () => {
    const limited = await gw.startGateway({ limits: { connectsPerUserPerMinute: 2 } });
    try {
      const user = gw.ids.user();
      const options = async () => ({ token: await gw.keys.token(user, now()), deviceId: newDevice() });
      const first = await connected(limited.url, await options());
      const second = await connected(limited.url, await options());
      const third = await connect(limited.url, await options());
      expect(third).toEqual({
        refusal: {
          status: 429,
          body: { error: "rate_limited", message: expect.any(String), details: { retry_after_seconds: 30 } },
        },
      });
      gw.clock.advance(30_000);
      const fourth = await connected(limited.url, await options());
      for (const client of [first.client, second.client, fourth.client]) client.close();
    } finally {
      await limited.close();
    }
  });

  describe("token matrix: every bad token answers 401 invalid_token", () => {
    it("missing", async () => {
      const answer = await refusal({ deviceId: newDevice() });
      expect(answer).toMatchObject({ status: 401, body: { error: "invalid_token" } });
    });

    it("malformed", async () => {
      await invalidToken("not-a-jwt");
      await invalidToken("a.b.c");
    });

    it("alg: none", async () => {
      const user = gw.ids.user();
      await invalidToken(
        `${b64({ alg: "none", kid: gw.keys.kid })}.${b64({ sub: user, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: seconds(), exp: seconds() + 600, jti: "j" })}.`,
      );
    });

    it("HS256 signed with the public key", async () => {
      const pem = await exportSPKI(gw.keys.publicKey);
      const token = await new SignJWT({ sub: gw.ids.user(), jti: "j", sid: "s" })
        .setProtectedHeader({ alg: "HS256", kid: gw.keys.kid })
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setIssuedAt(seconds())
        .setExpirationTime(seconds() + 600)
        .sign(new TextEncoder().encode(pem));
      await invalidToken(token);
    });

    it("signed by another key under the same kid, or an unknown kid", async () => {
      const other = await generateKeyPair("RS256");
      for (const kid of [gw.keys.kid, "unknown-kid"]) {
        const token = await new SignJWT({ sub: gw.ids.user(), jti: "j" })
          .setProtectedHeader({ alg: "RS256", kid })
          .setIssuer(JWT_ISSUER)
          .setAudience(JWT_AUDIENCE)
          .setIssuedAt(seconds())
          .setExpirationTime(seconds() + 600)
          .sign(other.privateKey);
        await invalidToken(token);
      }
    });

    it("expired, with details.expired_at", async () => {
      const exp = seconds() - 10;
      const answer = await invalidToken(await gw.keys.token(gw.ids.user(), now() - 3_600_000, { exp }));
      expect(answer.body.details).toEqual({ expired_at: new Date(exp * 1000).toISOString() });
    });

    it("not yet valid (nbf or iat in the future)", async () => {
      await invalidToken(await gw.keys.token(gw.ids.user(), now(), { nbf: seconds() + 600 }));
      await invalidToken(await gw.keys.token(gw.ids.user(), now() + 600_000));
    });

    it("wrong audience or issuer", async () => {
      await invalidToken(await gw.keys.token(gw.ids.user(), now(), { aud: "someone-else" }));
      await invalidToken(await gw.keys.token(gw.ids.user(), now(), { iss: "someone-else" }));
    });

    it("missing jti, sub or exp", async () => {
      await invalidToken(await gw.keys.token(gw.ids.user(), now(), { jti: undefined }));
      await invalidToken(await gw.keys.token(gw.ids.user(), now(), { sub: undefined }));
      await invalidToken(await gw.keys.token(gw.ids.user(), now(), { exp: undefined }));
    });

    it("a subject that is not a user id", async () => {
      await invalidToken(await gw.keys.token("someone", now()));
    });

    it("tampered payload", async () => {
      const token = await gw.keys.token(gw.ids.user(), now());
      const [header, payload, signature] = token.split(".");
      const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<
        string,
        unknown
      >;
      claims.sub = gw.ids.user();
      await invalidToken(`${header}.${b64(claims)}.${signature}`);
    });
  });

  describe("chat management's JWKS over HTTP", () => {
    let jwksServer: Server;
    let served: { keys: unknown[] };
    let fetches = 0;
    let remote: RunningGateway;

    beforeAll(async () => {
      served = { keys: [] };
      jwksServer = createServer((_, response) => {
        fetches++;
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(served));
      });
      await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
      const { port } = jwksServer.address() as AddressInfo;
      remote = await gw.startGateway({
        keys: remoteJwks({ url: `http://127.0.0.1:${port}/.well-known/jwks.json`, cooldownMs: 0 }),
      });
    });

    afterAll(async () => {
      await remote?.close();
      jwksServer?.close();
    });

    it("verifies with the fetched set and refetches it once for a rotated (unknown) kid", async () => {
      served = gw.keys.jwks;
      const first = await connected(remote.url, {
        token: await gw.keys.token(gw.ids.user(), now()),
        deviceId: newDevice(),
      });
      first.client.close();
      const before = fetches;
      const rotated = await generateKeyPair("RS256", { extractable: true });
      served = {
        keys: [
          ...gw.keys.jwks.keys,
          { ...(await exportJWK(rotated.publicKey)), kid: "rotated", alg: "RS256" },
        ],
      };
      const token = await new SignJWT({ sub: gw.ids.user(), jti: "j", sid: "s" })
        .setProtectedHeader({ alg: "RS256", kid: "rotated" })
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setIssuedAt(seconds())
        .setExpirationTime(seconds() + 600)
        .sign(rotated.privateKey);
      const second = await connected(remote.url, { token, deviceId: newDevice() });
      expect(fetches).toBe(before + 1);
      second.client.close();
    });
  });
});
