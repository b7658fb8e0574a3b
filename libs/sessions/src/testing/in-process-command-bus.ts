import { CommandBus, ICommand, ICommandHandler } from '@nestjs/cqrs';

/**
 * Dispatches commands to the handlers registered with it, in the caller's async context (as the
 * CommandBus does), so a command dispatched from inside a unit of work joins it.
 */
export class InProcessCommandBus {
  readonly dispatched: ICommand[] = [];
  private readonly handlers = new Map<abstract new (...args: never[]) => ICommand, ICommandHandler>();

  register<C extends ICommand>(command: abstract new (...args: never[]) => C, handler: ICommandHandler<C>): this {
    this.handlers.set(command, handler);
    return this;
  }

  async execute(command: ICommand): Promise<unknown> {
    const handler = this.handlers.get(command.constructor as abstract new (...args: never[]) => ICommand);
    if (!handler) throw new Error(`No handler registered for ${command.constructor.name}`);
    this.dispatched.push(command);
    return handler.execute(command);
  }

  asCommandBus(): CommandBus {
    return this as unknown as CommandBus;
  }
}
