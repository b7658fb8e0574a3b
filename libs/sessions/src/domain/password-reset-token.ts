import { hashRefreshToken, newRefreshToken, REFRESH_TOKEN_PATTERN } from './refresh-token';

/**
 * A password reset token has a refresh token's shape for the same reasons: 256 random bits,
 * shown once, stored only as SHA-256 under a unique index (one indexed read to redeem it).
 */
export const newPasswordResetToken = newRefreshToken;
export const hashPasswordResetToken = hashRefreshToken;
export const PASSWORD_RESET_TOKEN_PATTERN = REFRESH_TOKEN_PATTERN;
