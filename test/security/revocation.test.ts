import { beforeAll, describe, expect, it } from "vitest";
import type { RunningPlatform } from "../../app/platform.js";
import { call, login, newDevice, newPhone, type User } from "../conformance/support/rest.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { connect, connected, type TestClient } from "../support/gateway-harness.js";
import { inProcessPlatforms } from "./platform-process.js";

/**
 * A revoked session's access token stops working at once, not when it expires (up to an hour later): every way
 * chat management ends a session (logout, deleting one session, revoking all, a refresh token used twice) makes
 * gateways refuse the token's handshake with 401 `token_revoked` and close the session's open sockets with
 * `connection_closing{session_revoked}` and 1008. Real platforms on the real engines, logged in over REST.
 */
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");
const wsUrl = (platform: RunningPlatform) => `${platform.baseUrl.replace(/^http/, "ws")}/v1/ws`;

async function expectRevokedHandshake(url: string, user: User): Promise<void> {
  const attempt = await connect(url, { token: user.accessToken, deviceId: user.deviceId });
  expect(attempt).toMatchObject({ refusal: { status: 401, body: { error: "token_revoked" } } });
}

async function expectClosedAsRevoked(client: TestClient): Promise<void> {
  const closing = await client.next((frame) => frame.type === "connection_closing");
  expect(closing.payload.reason).toBe("session_revoked");
  expect((await client.closed).code).toBe(1008);
}

/** Each way of ending a session, given the user whose session ends and another session of the same user. */
const REVOCATIONS: ReadonlyArray<{
  readonly name: string;
  readonly revoke: (baseUrl: string, victim: User, other: User) => Promise<void>;
}> = [
  {
    name: "logout",
    revoke: async (baseUrl, victim) => {
      const answer = await call(baseUrl, "POST", "/api/v1/auth/logout", { token: victim.accessToken });
      expect(answer.status).toBe(204);
    },
  },
  {
    name: "deleting the session",
    revoke: async (baseUrl, victim, other) => {
      const answer = await call(baseUrl, "DELETE", `/api/v1/sessions/${victim.sessionId}`, {
        token: other.accessToken,
      });
      expect(answer.status).toBe(204);
    },
  },
  {
    name: "revoking all other sessions",
    revoke: async (baseUrl, _victim, other) => {
      const answer = await call(baseUrl, "DELETE", "/api/v1/sessions", { token: other.accessToken });
      expect(answer.status).toBe(200);
    },
  },
  {
    name: "a refresh token used twice",
    revoke: async (baseUrl, victim) => {
      const refresh = (refreshToken: string) =>
        call(baseUrl, "POST", "/api/v1/auth/refresh", {
          body: { refresh_token: refreshToken },
          headers: { "x-device-id": victim.deviceId },
        });
      expect((await refresh(victim.refreshToken)).status).toBe(200);
      expect((await refresh(victim.refreshToken)).status).toBe(401);
    },
  },
];

describe.skipIf(!dynamodb || !redis)("session revocation reaches the gateways", () => {
  const platforms = inProcessPlatforms({ prefix: "revoke" });
  const start = (env: Record<string, string>) => platforms.start({ HOST: "127.0.0.1", ...env });

  describe("embedded platform", () => {
    let platform: RunningPlatform;

    beforeAll(async () => {
      platform = await start({
        DYNAMODB_ENDPOINT: dynamodb ?? "",
        REDIS_URL: redis ?? "",
        TABLE_PREFIX: uniqueName("revoke_"),
      });
    }, 120_000);

    for (const { name, revoke } of REVOCATIONS) {
      it(`${name}: the old access token can no longer connect, and open sockets close with session_revoked`, async () => {
        const phone = newPhone();
        const victim = await login(platform.baseUrl, phone, newDevice());
        const other = await login(platform.baseUrl, phone, newDevice());
        const open = await connected(wsUrl(platform), {
          token: victim.accessToken,
          deviceId: victim.deviceId,
        });
        const bystander = await connected(wsUrl(platform), {
          token: other.accessToken,
          deviceId: other.deviceId,
        });
        await revoke(platform.baseUrl, victim, other);
        await expectRevokedHandshake(wsUrl(platform), victim);
        await expectClosedAsRevoked(open.client);
        // The user's other session lives on.
        expect(bystander.client.ofType("connection_closing")).toEqual([]);
        bystander.client.close();
      });
    }
  });

  describe("chat management and two gateways, each its own platform", () => {
    let chatmgmt: RunningPlatform;
    let first: RunningPlatform;
    let second: RunningPlatform;

    beforeAll(async () => {
      const engines = {
        DYNAMODB_ENDPOINT: dynamodb ?? "",
        REDIS_URL: redis ?? "",
        TABLE_PREFIX: uniqueName("revoke_cluster_"),
        GRPC_PORT: "0",
        CHAT_GRPC_PORT: "0",
        INTERNAL_GRPC_TOKEN: "revocation-test-internal-token",
      };
      chatmgmt = await start({ ...engines, ROLE: "chatmgmt", DEV_MODE: "true" });
      const jwks = { JWKS_URL: `${chatmgmt.baseUrl}/.well-known/jwks.json` };
      first = await start({ ...engines, ...jwks, ROLE: "gateway" });
      second = await start({ ...engines, ...jwks, ROLE: "gateway" });
    }, 180_000);

    it("a session revoked at chat management is refused by every gateway, also one that never held its sockets", async () => {
      const phone = newPhone();
      const victim = await login(chatmgmt.baseUrl, phone, newDevice());
      const other = await login(chatmgmt.baseUrl, phone, newDevice());
      // The victim connects to the first gateway only; the second has checked nothing about the session yet
      // beyond what this handshake made it cache.
      const open = await connected(wsUrl(first), { token: victim.accessToken, deviceId: victim.deviceId });
      const probe = await connected(wsUrl(second), { token: victim.accessToken, deviceId: newDevice() });
      probe.client.close();
      await probe.client.closed;
      const answer = await call(chatmgmt.baseUrl, "DELETE", `/api/v1/sessions/${victim.sessionId}`, {
        token: other.accessToken,
      });
      expect(answer.status).toBe(204);
      await expectRevokedHandshake(wsUrl(second), victim);
      await expectRevokedHandshake(wsUrl(first), victim);
      await expectClosedAsRevoked(open.client);
    });
  });
});
