import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { Logger } from "../../runtime/logger.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { RateLimiter } from "../auth/rate-limits.js";
import { displayNames } from "../chats/member-names.js";
import { LOGGER, USER_STORE } from "../tokens.js";
import { type LookupResult, LookupUsersQuery } from "./lookup-users.query.js";

/** Spec §1: 10 per minute and 100 per hour per user, to slow down enumeration of phone numbers. */
@QueryHandler(LookupUsersQuery)
export class LookupUsersHandler implements IQueryHandler<LookupUsersQuery, LookupResult> {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(USER_STORE) private readonly userStore: UserStore,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
  ) {}

  async execute(query: LookupUsersQuery): Promise<LookupResult> {
    const userId = query.caller.userId;
    await this.rateLimiter.enforce(`lookup:min:${userId}`, 10, 60_000);
    await this.rateLimiter.enforce(`lookup:hour:${userId}`, 100, 3_600_000);
    const phones = [...new Set(query.phoneNumbers)];
    this.logger.info({ user_id: userId, count: phones.length }, "users.lookup");
    const holders = await this.userStore.getUserIdsByPhones(phones);
    const names = await displayNames(this.userStore, [...holders.values()]);
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
