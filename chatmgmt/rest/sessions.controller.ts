import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Query,
  UseGuards,
} from "@nestjs/common";
import { CommandBus, QueryBus } from "@nestjs/cqrs";
import { z } from "zod";
import { isoTime } from "../../runtime/clock.js";
import { MAX_SEQUENCE, type Sequence, type SessionId } from "../../runtime/ids.js";
import type { SessionRecord } from "../../runtime/ports/session-store.js";
import type { Caller } from "../auth/sessions.js";
import { RevokeAllSessionsCommand } from "../commands/revoke-all-sessions.command.js";
import { RevokeSessionCommand } from "../commands/revoke-session.command.js";
import {
  type DeliveryStateResult,
  UpdateDeliveryStateCommand,
} from "../commands/update-delivery-state.command.js";
import { type DeliveryStateView, GetDeliveryStatesQuery } from "../queries/get-delivery-states.query.js";
import { ListSessionsQuery } from "../queries/list-sessions.query.js";
import { chatId } from "../schemas.js";
import { parseInput } from "../validation.js";
import { AuthGuard } from "./auth.guard.js";
import { CurrentCaller } from "./request.js";
import { sessionView } from "./views.js";

export const sessionId = z.string().regex(/^sess_[0-9A-Z]{26}$/, "must be a session id (sess_…)");
export const revokeAllQuery = z.object({ include_current: z.enum(["true", "false"]).default("false") });
export const deliveryQuery = z.object({
  chat_ids: z
    .string()
    .transform((text) => text.split(",").filter((part) => part !== ""))
    .pipe(z.array(chatId).min(1).max(50, "at most 50 chat ids"))
    .optional(),
});
export const deliveryBody = z.strictObject({
  last_acked_sequence: z.number().int().min(1).max(MAX_SEQUENCE),
});

/** Sessions (spec §3.3) and delivery state (spec §2). */
@Controller("api/v1")
@UseGuards(AuthGuard)
export class SessionsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Get("sessions")
  async list(@CurrentCaller() caller: Caller) {
    const sessions = await this.queries.execute<ListSessionsQuery, SessionRecord[]>(
      new ListSessionsQuery(caller),
    );
    return { data: sessions.map((s) => sessionView(s, caller.sessionId)) };
  }

  @Delete("sessions/:sessionId")
  @HttpCode(204)
  async revoke(@CurrentCaller() caller: Caller, @Param("sessionId") id: string): Promise<void> {
    await this.commands.execute(new RevokeSessionCommand(caller, parseInput(sessionId, id) as SessionId));
  }

  @Delete("sessions")
  async revokeAll(@CurrentCaller() caller: Caller, @Query() query: unknown) {
    const input = parseInput(revokeAllQuery, query);
    const revoked = await this.commands.execute<RevokeAllSessionsCommand, number>(
      new RevokeAllSessionsCommand(caller, input.include_current === "true"),
    );
    return { data: { revoked_count: revoked } };
  }

  @Get("delivery-state")
  async deliveryStates(@CurrentCaller() caller: Caller, @Query() query: unknown) {
    const input = parseInput(deliveryQuery, query);
    const states = await this.queries.execute<GetDeliveryStatesQuery, DeliveryStateView[]>(
      new GetDeliveryStatesQuery(caller, input.chat_ids),
    );
    return {
      data: states.map((s) => ({
        chat_id: s.chatId,
        last_acked_sequence: s.lastAckedSequence,
        current_sequence: s.currentSequence,
        unread_count: Math.max(0, s.currentSequence - s.lastAckedSequence),
        updated_at: s.updatedAt === null ? null : isoTime(s.updatedAt),
      })),
    };
  }

  @Patch("delivery-state/:chatId")
  async ack(@CurrentCaller() caller: Caller, @Param("chatId") id: string, @Body() body: unknown) {
    const target = parseInput(chatId, id);
    const input = parseInput(deliveryBody, body);
    const result = await this.commands.execute<UpdateDeliveryStateCommand, DeliveryStateResult>(
      new UpdateDeliveryStateCommand(caller, target, input.last_acked_sequence as Sequence),
    );
    return {
      data: {
        chat_id: target,
        last_acked_sequence: result.lastAckedSequence,
        updated_at: isoTime(result.updatedAt),
      },
    };
  }
}
