export * from './config/environment';
export * from './http/problem-details';
export * from './http/problem-details.filter';
export * from './http/dependency-errors';
export * from './http/request-errors';
export * from './http/validation';
export * from './database/embedded-postgres';
export * from './database/migrations';
