// `@app/sessions/throttler`: @nestjs/throttler storage (an optional peer) on the host's Redis cache store.
export { createThrottlerStorage, type ThrottlerStorageOptions } from './throttler-storage.factory';
