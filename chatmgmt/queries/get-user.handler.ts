import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { UserRecord, UserStore } from "../../runtime/ports/user-store.js";
import { USER_STORE } from "../tokens.js";
import { GetUserQuery } from "./get-user.query.js";

@QueryHandler(GetUserQuery)
export class GetUserHandler implements IQueryHandler<GetUserQuery, UserRecord> {
  constructor(@Inject(USER_STORE) private readonly userStore: UserStore) {}

  async execute(query: GetUserQuery): Promise<UserRecord> {
    const user = await this.userStore.getUser(query.userId);
    if (user === undefined)
      throw new AppError("USER_NOT_FOUND", "user not found", { details: { user_id: query.userId } });
    return user;
  }
}
