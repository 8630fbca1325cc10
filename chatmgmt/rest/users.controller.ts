import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, UseGuards } from "@nestjs/common";
import { CommandBus, QueryBus } from "@nestjs/cqrs";
import { z } from "zod";
import type { UserRecord } from "../../runtime/ports/user-store.js";
import type { Caller } from "../auth/sessions.js";
import { UpdateProfileCommand } from "../commands/update-profile.command.js";
import { GetUserQuery } from "../queries/get-user.query.js";
import { type LookupResult, LookupUsersQuery } from "../queries/lookup-users.query.js";
import { displayName, phoneNumber, userId } from "../schemas.js";
import { parseInput } from "../validation.js";
import { AuthGuard } from "./auth.guard.js";
import { CurrentCaller } from "./request.js";
import { publicUserView, userView } from "./views.js";

export const patchMeBody = z.strictObject({ display_name: displayName.optional() });
export const lookupBody = z.strictObject({
  phone_numbers: z.array(phoneNumber).min(1, "at least one number").max(100, "at most 100 numbers"),
});

@Controller("api/v1/users")
@UseGuards(AuthGuard)
export class UsersController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Get("me")
  async me(@CurrentCaller() caller: Caller) {
    return {
      data: userView(await this.queries.execute<GetUserQuery, UserRecord>(new GetUserQuery(caller.userId))),
    };
  }

  @Patch("me")
  async updateMe(@CurrentCaller() caller: Caller, @Body() body: unknown) {
    const input = parseInput(patchMeBody, body ?? {});
    const user = await this.commands.execute<UpdateProfileCommand, UserRecord>(
      new UpdateProfileCommand(caller, input.display_name),
    );
    return { data: userView(user) };
  }

  @Post("lookup")
  @HttpCode(200)
  async lookup(@CurrentCaller() caller: Caller, @Body() body: unknown) {
    const input = parseInput(lookupBody, body);
    const result = await this.queries.execute<LookupUsersQuery, LookupResult>(
      new LookupUsersQuery(caller, input.phone_numbers),
    );
    return {
      data: {
        users: result.users.map((u) => ({
          phone_number: u.phoneNumber,
          user_id: u.userId,
          display_name: u.displayName,
        })),
        not_found: result.notFound,
      },
    };
  }

  @Get(":userId")
  async user(@Param("userId") id: string) {
    const target = parseInput(userId, id);
    return {
      data: publicUserView(await this.queries.execute<GetUserQuery, UserRecord>(new GetUserQuery(target))),
    };
  }
}
