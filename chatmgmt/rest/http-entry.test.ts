import { describe, expect, it } from "vitest";
import { ownsPath } from "./http-entry.js";

describe("chat management's share of the HTTP paths", () => {
  it("answers all of /api/v1 and the JWKS, and leaves every other path to the platform", () => {
    for (const path of [
      "/api/v1",
      "/api/v1/",
      "/api/v1/chatsx",
      "/api/v1/auth/request-otp",
      "/api/v1/dev/otp?phone=%2B1",
      "/api/v1/users/me",
      "/api/v1/chats",
      "/api/v1/chats/chat_x/messages?limit=2",
      "/api/v1/sessions",
      "/api/v1/delivery-state/chat_x",
      "/.well-known/jwks.json",
    ]) {
      expect(ownsPath(path), path).toBe(true);
    }
    for (const path of ["/", "/api/v10", "/api", "/health", "/metrics", "/v1/ws", "/inspector"]) {
      expect(ownsPath(path), path).toBe(false);
    }
  });
});
