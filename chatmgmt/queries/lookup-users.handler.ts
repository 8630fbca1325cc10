import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import { enforceLimit } from "../auth/rate-limits.js";
import { displayNames } from "../chats/member-names.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { type LookupResult, LookupUsersQuery } from "./lookup-users.query.js";

/** Spec §1: 10 per minute and 100 per hour per user, to slow down enumeration of phone numbers. */
@QueryHandler(LookupUsersQuery)
export class LookupUsersHandler implements IQueryHandler<LookupUsersQuery, LookupResult> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(query: LookupUsersQuery): Promise<LookupResult> {
    const userId = query.caller.userId;
    await enforceLimit(this.ctx, `lookup:min:${userId}`, 10, 60_000);
    await enforceLimit(this.ctx, `lookup:hour:${userId}`, 100, 3_600_000);
    const phones = [...new Set(query.phoneNumbers)];
    this.ctx.logger.info({ user_id: userId, count: phones.length }, "users.lookup");
    const holders = await this.ctx.userStore.getUserIdsByPhones(phones);
    const names = await displayNames(this.ctx, [...holders.values()]);
    return {
      users: phones.flatMap((phoneNumber) => {
        const holder = holders.get(phoneNumber);
        return holder === undefined
          ? []
          : [{ phoneNumber, userId: holder, displayName: names.get(holder) ?? null }];
      }),
      notFound: phones.filter((phone) => !holders.has(phone)),
    };
  }
}
