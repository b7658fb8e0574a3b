import { v7 as uuidv7 } from 'uuid';

/**
 * This process, among the instances sharing the database: written into every Attempted entry and
 * beaten into the `instances` table, so recovery closes only the operations of a process that
 * has stopped beating, never those of a live one.
 */
export const PROCESS_INSTANCE_ID = uuidv7();
