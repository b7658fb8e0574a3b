export * from './http/problem-details';
export * from './http/problem-details.filter';
export * from './http/dependency-errors';
export * from './http/request-errors';
export * from './http/validation';
export * from './http/json-bodies';
export * from './http/client-errors';
export * from './database/embedded-postgres';
