import type { IncomingMessage } from "node:http";
import { createParamDecorator, type ExecutionContext } from "@nestjs/common";
import { AppError } from "../../runtime/errors.js";
import type { Caller } from "../auth/sessions.js";

/** What the REST entry and the auth guard attach to a request. */
export interface RestRequest extends IncomingMessage {
  requestId?: string;
  caller?: Caller;
  body?: unknown;
  query?: Record<string, unknown>;
}

/** The authenticated caller (set by AuthGuard). */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<RestRequest>().caller;
  if (caller === undefined) throw new AppError("UNAUTHORIZED", "authentication required");
  return caller;
});

/** A header's single value, or undefined. */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}
