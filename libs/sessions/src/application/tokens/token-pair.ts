/** What a client gets on login and on every refresh. */
export interface TokenPair {
  readonly userId: string;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
}

/**
 * What a console login opens: a session whose one refresh token is the credential of the admin
 * console's cookie (never rotated, refused by the web API's refresh), and no access token.
 */
export interface ConsoleSessionGrant {
  readonly userId: string;
  readonly sessionId: string;
  /** The cookie's value: shown once, stored only as its SHA-256. */
  readonly credential: string;
  /** The session's absolute end (never extended). */
  readonly expiresAt: Date;
  /** The login itself: the password was just entered. */
  readonly reauthenticatedAt: Date;
}
