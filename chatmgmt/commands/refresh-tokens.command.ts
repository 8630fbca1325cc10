/** Rotates a refresh token (spec §3.3): one concurrent winner; reuse of an old token revokes the family. */
export class RefreshTokensCommand {
  constructor(
    readonly refreshToken: string,
    /** `X-Device-ID`: must be the session's device. */
    readonly deviceId: string,
    /** The (possibly expired) access token, when the client sent one: it must name the same session. */
    readonly accessToken?: string,
  ) {}
}
