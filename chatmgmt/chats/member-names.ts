import type { UserId } from "../../runtime/ids.js";
import type { UserStore } from "../../runtime/ports/user-store.js";

/** Display names of many users in one batch read; users without a name (or missing) map to null. */
export async function displayNames(
  userStore: UserStore,
  userIds: readonly UserId[],
): Promise<Map<UserId, string | null>> {
  const users = await userStore.getUsers([...new Set(userIds)]);
  const names = new Map<UserId, string | null>(userIds.map((userId) => [userId, null]));
  for (const user of users) names.set(user.userId, user.displayName);
  return names;
}
