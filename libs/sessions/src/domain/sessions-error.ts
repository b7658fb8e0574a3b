/**
 * The library's own errors, so a host can tell them from its own and from driver errors with one
 * `instanceof SessionsError` and a stable `code`. Expected outcomes are not errors: they are the
 * commands' typed results. These are for what a caller must fix (its input, its configuration).
 */
export abstract class SessionsError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A command was dispatched with a field that cannot be valid (not a UUID, too long, empty, ...). */
export class InvalidCommandInput extends SessionsError {
  readonly code = 'invalid_input';

  constructor(
    /** The command's class name, e.g. `RevokeAllUserSessions`. */
    readonly command: string,
    /** The field at fault, as named on the command. */
    readonly field: string,
    /** What is wrong with it, for a developer (never quotes the value). */
    readonly problem: string,
  ) {
    super(`${command}.${field} ${problem}`);
  }
}

/** The module was configured in a way that would not work (or not safely): raised at start-up. */
export class SessionsConfigurationError extends SessionsError {
  readonly code = 'invalid_configuration';

  constructor(
    message: string,
    /** Each thing to fix, one sentence each, naming its field (the message lists them too). */
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}

/**
 * A migration request the runner will not carry out: reverting the migration that created the
 * schema would drop every sessions table, the audit trail with them.
 */
export class SessionsMigrationRefused extends SessionsError {
  readonly code = 'migration_refused';

  constructor(
    /** The migration the request was about. */
    readonly migration: string,
    message: string,
  ) {
    super(message);
  }
}
