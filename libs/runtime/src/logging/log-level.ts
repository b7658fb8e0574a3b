/** pino's levels, lowest first, and `silent` (LOG_LEVEL): Nest's verbose is trace, its log info. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
