export type { AccessClaims } from "./auth/access-tokens.js";
export type { ChatManagementDeps, ChatManagementStores } from "./context.js";
export {
  type ChatManagement,
  type ChatManagementInfo,
  createChatManagement,
  type RunningChatGrpc,
} from "./create-chat-management.js";
export { dynamoChatManagementStores, memoryChatManagementStores } from "./stores.js";
