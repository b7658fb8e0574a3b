import 'reflect-metadata';
import { Provider, Type } from '@nestjs/common';
import { SESSIONS_OPTIONS } from '../sessions.options';
import { APPLICATION_PROVIDERS, SETTINGS_PROVIDERS } from './application.providers';

/** The tokens a class asks for with @Inject (Nest keeps them as 'self:paramtypes'). */
const injectedTokens = (type: Type): unknown[] =>
  ((Reflect.getMetadata('self:paramtypes', type) as Array<{ param: unknown }> | undefined) ?? []).map((dep) => dep.param);

describe('the application providers', () => {
  it('hand the services narrow settings, never the whole options bag (which holds the signing secret)', () => {
    const classes = APPLICATION_PROVIDERS.filter((provider): provider is Type => typeof provider === 'function');
    const widened = classes.filter((type) => injectedTokens(type).includes(SESSIONS_OPTIONS)).map((type) => type.name);
    expect(widened).toEqual([]);
    expect(classes.length).toBeGreaterThan(20);
  });

  it('read each setting from the options in one place', () => {
    const fromOptions = SETTINGS_PROVIDERS.filter((provider: Provider) => (provider as { inject?: unknown[] }).inject?.includes(SESSIONS_OPTIONS));
    expect(fromOptions).toHaveLength(SETTINGS_PROVIDERS.length);
  });
});
