import { Actors } from '../../domain/actor';
import { NO_REQUEST_CONTEXT, requestContext } from '../../domain/request-context';
import { InvalidCommandInput } from '../../domain/sessions-error';
import { assertValidInput, Checks } from './command-input';

const UUID = '0190a5d2-0000-7000-8000-0000000000a1';

class ExampleCommand {
  constructor(
    readonly userId: unknown,
    readonly reason: unknown = 'a reason',
    readonly actor: unknown = Actors.system(),
    readonly context: unknown = NO_REQUEST_CONTEXT,
    readonly details: unknown = {},
  ) {}
}
const RULES = { userId: Checks.uuid(), reason: Checks.reason(), actor: Checks.actor(), context: Checks.context(), details: Checks.details() };
const problemOf = (command: ExampleCommand) => {
  try {
    assertValidInput(command, RULES);
    return null;
  } catch (error) {
    if (!(error instanceof InvalidCommandInput)) throw error;
    return `${error.field}: ${error.problem}`;
  }
};

describe('assertValidInput', () => {
  it('passes a valid command, ids in either case', () => {
    expect(problemOf(new ExampleCommand(UUID))).toBeNull();
    expect(problemOf(new ExampleCommand(UUID.toUpperCase(), 'x'.repeat(200), Actors.admin(UUID), requestContext('203.0.113.1', 'ua'), { n: 1 }))).toBeNull();
    expect(problemOf(new ExampleCommand(UUID, 'r', Actors.service('billing.v2_jobs-1')))).toBeNull();
    expect(problemOf(new ExampleCommand(UUID, 'r', Actors.service('a'.repeat(64))))).toBeNull();
  });

  it('names the first field at fault, with the command, and never quotes the value', () => {
    let caught: unknown;
    try {
      assertValidInput(new ExampleCommand('secret-looking value'), RULES);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidCommandInput);
    expect(caught).toMatchObject({ code: 'invalid_input', command: 'ExampleCommand', field: 'userId', problem: 'must be a UUID' });
    expect((caught as Error).message).not.toContain('secret-looking');
  });

  it.each([
    ['a UUID with braces', new ExampleCommand(`{${UUID}}`), 'userId: must be a UUID'],
    ['a number for an id', new ExampleCommand(42), 'userId: must be a UUID'],
    ['an empty reason', new ExampleCommand(UUID, ''), 'reason: must be 1 to 200 characters'],
    ['a reason of 201 characters', new ExampleCommand(UUID, 'é'.repeat(201)), 'reason: must be 1 to 200 characters'],
    ['a reason with a lone surrogate', new ExampleCommand(UUID, 'bad \ud800'), 'reason: must be well-formed Unicode (it contains a lone surrogate)'],
    [
      'an unknown actor type',
      new ExampleCommand(UUID, 'r', { type: 'root', id: null }),
      'actor: must be an Actor (see Actors) with a type of user, admin, system, service',
    ],
    ['an admin without an id', new ExampleCommand(UUID, 'r', { type: 'admin', id: null }), "actor: id must be a UUID for an 'admin' actor"],
    ['a system actor with an id', new ExampleCommand(UUID, 'r', { type: 'system', id: UUID }), "actor: id must be null for a 'system' actor"],
    [
      'a service without a valid name',
      new ExampleCommand(UUID, 'r', Actors.service('Billing Team')),
      "actor: name must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit, for a 'service' actor",
    ],
    ['a name on a user actor', new ExampleCommand(UUID, 'r', { type: 'user', id: UUID, name: 'billing' }), "actor: name is for a 'service' actor only"],
    ['no context', new ExampleCommand(UUID, 'r', Actors.system(), null), 'context: must be a RequestContext (see requestContext())'],
    [
      'an address longer than its column',
      new ExampleCommand(UUID, 'r', Actors.system(), { ipAddress: '1'.repeat(65), userAgent: null }),
      'context: ipAddress must be null or 1 to 64 characters',
    ],
    ['details that are an array', new ExampleCommand(UUID, 'r', Actors.system(), NO_REQUEST_CONTEXT, []), 'details: must be an object'],
    [
      'details with a lone surrogate',
      new ExampleCommand(UUID, 'r', Actors.system(), NO_REQUEST_CONTEXT, { note: { deep: '\udc00' } }),
      'details: must be well-formed Unicode (a string in it contains a lone surrogate)',
    ],
    [
      'details too large',
      new ExampleCommand(UUID, 'r', Actors.system(), NO_REQUEST_CONTEXT, { note: 'x'.repeat(9000) }),
      'details: must be at most 8 KiB as JSON',
    ],
  ])('refuses %s', (_name, command, problem) => {
    expect(problemOf(command)).toBe(problem);
  });

  it('accepts a User-Agent cut inside a surrogate pair by requestContext()', () => {
    const context = requestContext('203.0.113.1', `${'a'.repeat(511)}😀`);
    expect(problemOf(new ExampleCommand(UUID, 'r', Actors.system(), context))).toBeNull();
  });
});
