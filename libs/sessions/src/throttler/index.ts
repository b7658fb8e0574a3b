// `@app/sessions/throttler`: @nestjs/throttler storage (an optional peer) on the host's Redis cache store.
export { createThrottlerStorage, type SharedStateOptions as ThrottlerStorageOptions } from '../infrastructure/cache/rate-limit.factory';
