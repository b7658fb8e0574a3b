import { Actors, type SessionEventFields, UserLoginAttempted, UserLoginFailed, UserLoginSucceeded } from '@app/sessions';
import { Controller, Get, INestApplication, Module, Param, UnauthorizedException, UseGuards } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { type Span, trace } from '@opentelemetry/api';
import { CommandSpanAttributes, RouteSpanGuard } from './nest-tracing';

/** A span that only records what is done to it. */
function recordingSpan() {
  const calls = { attributes: {} as Record<string, unknown>, names: [] as string[], events: [] as Array<{ name: string; attributes: unknown }> };
  const span = {
    setAttribute: (key: string, value: unknown) => ((calls.attributes[key] = value), span),
    setAttributes: (attributes: Record<string, unknown>) => (Object.assign(calls.attributes, attributes), span),
    updateName: (name: string) => (calls.names.push(name), span),
    addEvent: (name: string, attributes: unknown) => (calls.events.push({ name, attributes }), span),
  };
  return { span: span as unknown as Span, calls };
}

const refuse = {
  canActivate: () => {
    throw new UnauthorizedException();
  },
};

@Controller('probe')
class ProbeController {
  @Get('items/:itemId')
  item(@Param('itemId') itemId: string) {
    return { itemId };
  }

  @Get('refused/:itemId')
  @UseGuards(refuse)
  refused() {
    return {};
  }
}

@Module({ controllers: [ProbeController], providers: [{ provide: APP_GUARD, useClass: RouteSpanGuard }] })
class ProbeModule {}

describe('RouteSpanGuard', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each([
    ['Express', () => new ExpressAdapter()],
    ['Fastify', () => new FastifyAdapter()],
  ])('names the active span after the matched route on %s, also when a later guard refuses the request', async (_name, adapter) => {
    const app: INestApplication = await NestFactory.create(ProbeModule, adapter(), { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const url = await app.getUrl();
      const { span, calls } = recordingSpan();
      jest.spyOn(trace, 'getActiveSpan').mockReturnValue(span);
      expect((await fetch(`${url}/probe/items/42`)).status).toBe(200);
      expect(calls.names).toEqual(['GET /probe/items/:itemId']);
      expect(calls.attributes).toEqual({ 'http.route': '/probe/items/:itemId' });
      expect((await fetch(`${url}/probe/refused/7`)).status).toBe(401);
      expect(calls.names).toEqual(['GET /probe/items/:itemId', 'GET /probe/refused/:itemId']);
    } finally {
      await app.close();
    }
  });

  it('leaves the span alone for a request that matched no route', async () => {
    const app = await NestFactory.create(ProbeModule, new ExpressAdapter(), { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const { span, calls } = recordingSpan();
      jest.spyOn(trace, 'getActiveSpan').mockReturnValue(span);
      expect((await fetch(`${await app.getUrl()}/nowhere`)).status).toBe(404);
      expect(calls.names).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('CommandSpanAttributes', () => {
  afterEach(() => jest.restoreAllMocks());

  const fields = (correlationId: string): SessionEventFields => ({
    eventId: `${correlationId}-event`,
    correlationId,
    occurredAt: new Date(),
    actor: Actors.anonymous(),
    subjectUserId: null,
    sessionId: null,
    sessionIds: [],
    reason: null,
    count: null,
    ipAddress: null,
    userAgent: null,
    details: {},
  });

  it("puts each command's name, correlation id and outcome on the span active when its events are published", async () => {
    const module = await Test.createTestingModule({ imports: [CqrsModule.forRoot()], providers: [CommandSpanAttributes] }).compile();
    await module.init();
    try {
      const eventBus = module.get(EventBus);
      const { span, calls } = recordingSpan();
      jest.spyOn(trace, 'getActiveSpan').mockReturnValue(span);
      eventBus.publish(new UserLoginAttempted(fields('c-1')));
      expect(calls.attributes).toEqual({ 'app.command.name': 'user.login', 'app.command.correlation_id': 'c-1' });
      eventBus.publish(new UserLoginFailed(fields('c-1')));
      expect(calls.attributes).toEqual({ 'app.command.name': 'user.login', 'app.command.correlation_id': 'c-1', 'app.command.outcome': 'failed' });
      eventBus.publish(new UserLoginAttempted(fields('c-2')));
      eventBus.publish(new UserLoginSucceeded(fields('c-2')));
      expect(calls.attributes).toEqual({ 'app.command.name': 'user.login', 'app.command.correlation_id': 'c-2', 'app.command.outcome': 'succeeded' });
      expect(calls.events.map((event) => event.attributes)).toEqual([
        { 'app.command.name': 'user.login', 'app.command.correlation_id': 'c-1', 'app.command.outcome': 'attempted' },
        { 'app.command.name': 'user.login', 'app.command.correlation_id': 'c-1', 'app.command.outcome': 'failed' },
        { 'app.command.name': 'user.login', 'app.command.correlation_id': 'c-2', 'app.command.outcome': 'attempted' },
        { 'app.command.name': 'user.login', 'app.command.correlation_id': 'c-2', 'app.command.outcome': 'succeeded' },
      ]);
    } finally {
      await module.close();
    }
  });

  it('does nothing without an active span, and stops listening when the app closes', async () => {
    const module = await Test.createTestingModule({ imports: [CqrsModule.forRoot()], providers: [CommandSpanAttributes] }).compile();
    await module.init();
    const eventBus = module.get(EventBus);
    jest.spyOn(trace, 'getActiveSpan').mockReturnValue(undefined);
    expect(() => eventBus.publish(new UserLoginAttempted(fields('c-3')))).not.toThrow();
    await module.close();
    const { span, calls } = recordingSpan();
    jest.spyOn(trace, 'getActiveSpan').mockReturnValue(span);
    eventBus.publish(new UserLoginAttempted(fields('c-4')));
    expect(calls.attributes).toEqual({});
  });
});
