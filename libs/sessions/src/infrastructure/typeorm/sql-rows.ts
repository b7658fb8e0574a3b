import { EntityManager } from 'typeorm';

/** `manager.query` returns `[rows, count]` for UPDATE and DELETE, plain rows otherwise. */
export async function rowsOf<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const raw: unknown = await manager.query(sql, params);
  return (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number' ? raw[0] : raw) as T[];
}

/** The manager a statement goes through: a transaction's, or the pool's. */
export type ManagerSource = () => EntityManager;

/** The health probe's statement. */
export const PING_SQL = 'SELECT 1';
