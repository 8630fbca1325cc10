import { Controller, Get, Inject, Param, Query, UseGuards } from "@nestjs/common";
import { QueryBus } from "@nestjs/cqrs";
import { z } from "zod";
import { MAX_SEQUENCE } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";
import { GetMessageQuery, type SingleMessage } from "../queries/get-message.query.js";
import { GetMessagesQuery, type MessagePage } from "../queries/get-messages.query.js";
import { GetMessagesAroundQuery, type MessagesAround } from "../queries/get-messages-around.query.js";
import { chatId, messageId } from "../schemas.js";
import { parseInput } from "../validation.js";
import { AuthGuard } from "./auth.guard.js";
import { CurrentCaller } from "./request.js";
import { messageView, pagination } from "./views.js";

export const sequenceParam = z.coerce.number().int().min(0).max(MAX_SEQUENCE);
export const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(512).optional(),
  direction: z.enum(["forward", "backward"], { error: "must be forward or backward" }).default("backward"),
  before_sequence: sequenceParam.optional(),
  after_sequence: sequenceParam.optional(),
});
export const aroundQuery = z.object({ context: z.coerce.number().int().min(0).max(50).default(25) });

/** History (spec §2.2): messages are sent only over WebSocket. */
@Controller("api/v1/chats/:chatId/messages")
@UseGuards(AuthGuard)
export class MessagesController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  async history(@CurrentCaller() caller: Caller, @Param("chatId") id: string, @Query() query: unknown) {
    const input = parseInput(historyQuery, query);
    const page = await this.queries.execute<GetMessagesQuery, MessagePage>(
      new GetMessagesQuery(caller, parseInput(chatId, id), {
        limit: input.limit,
        direction: input.direction,
        ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
        ...(input.before_sequence === undefined ? {} : { beforeSequence: input.before_sequence }),
        ...(input.after_sequence === undefined ? {} : { afterSequence: input.after_sequence }),
      }),
    );
    return {
      data: page.messages.map((m) => messageView(m, page.senderNames.get(m.senderId) ?? null)),
      pagination: pagination(page.hasMore, page.nextCursor),
    };
  }

  @Get("around/:sequence")
  async around(
    @CurrentCaller() caller: Caller,
    @Param("chatId") id: string,
    @Param("sequence") sequence: string,
    @Query() query: unknown,
  ) {
    const target = parseInput(sequenceParam.min(1), sequence);
    const { context } = parseInput(aroundQuery, query);
    const result = await this.queries.execute<GetMessagesAroundQuery, MessagesAround>(
      new GetMessagesAroundQuery(caller, parseInput(chatId, id), target, context),
    );
    return {
      data: {
        target_sequence: result.targetSequence,
        messages: result.messages.map((m) => messageView(m, result.senderNames.get(m.senderId) ?? null)),
        has_more_before: result.hasMoreBefore,
        has_more_after: result.hasMoreAfter,
      },
    };
  }

  /** By `msg_` id, or by sequence when the segment is a number. */
  @Get(":messageRef")
  async one(@CurrentCaller() caller: Caller, @Param("chatId") id: string, @Param("messageRef") ref: string) {
    const reference = /^\d+$/.test(ref)
      ? { sequence: parseInput(sequenceParam.min(1), ref) }
      : { messageId: parseInput(messageId, ref) };
    const result = await this.queries.execute<GetMessageQuery, SingleMessage>(
      new GetMessageQuery(caller, parseInput(chatId, id), reference),
    );
    return { data: messageView(result.message, result.senderName) };
  }
}
