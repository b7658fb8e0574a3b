import { useEffect, useState } from 'preact/hooks';
import { describeError, get } from './api';
import { userHref } from './routes';
import { Time } from './time';
import type { Overview } from './views';

function Figure({ name, label, value, tone }: { name: string; label: string; value: string | number; tone?: 'ok' | 'bad' }) {
  return (
    <div class={`figure ${tone ?? ''}`}>
      <dt>{label}</dt>
      <dd data-testid={`overview-${name}`}>{value}</dd>
    </div>
  );
}

/** The figures an operator looks at first in an incident (GET /admin/overview). */
export function OverviewPage() {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      setOverview(await get<Overview>('/admin/overview'));
      setError(null);
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  useEffect(() => {
    void load();
  }, []);

  return (
    <section data-testid="overview">
      <h1>Overview</h1>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {overview !== null && (
        <>
          <p class="muted">
            As of <Time iso={overview.generatedAt} />{' '}
            <button type="button" class="small" onClick={() => void load()}>
              Refresh
            </button>
          </p>
          <dl class="figures">
            <Figure name="active-sessions" label="Active sessions" value={overview.activeSessions} />
            <Figure name="sign-ins" label="Sign-ins, last 24 h" value={overview.last24h.signIns} />
            <Figure name="failed-sign-ins" label="Failed sign-ins, last 24 h" value={overview.last24h.failedSignIns} />
            <Figure name="revocations" label="Revocations, last 24 h" value={overview.last24h.revocations} />
            <Figure name="lockouts" label="Current lockouts" value={overview.lockouts.current} tone={overview.lockouts.current > 0 ? 'bad' : undefined} />
            <Figure
              name="cache"
              label="Session cache"
              value={`${overview.cache.trusted ? 'trusted' : 'not trusted'}${overview.cache.state === (overview.cache.trusted ? 'trusted' : 'not trusted') ? '' : ` (${overview.cache.state})`}, ${overview.cache.queuedMarkers} queued`}
              tone={overview.cache.trusted ? 'ok' : 'bad'}
            />
            <Figure
              name="database"
              label="Database"
              value={overview.database.healthy ? `healthy${overview.database.latencyMs === null ? '' : `, ${overview.database.latencyMs} ms`}` : 'unhealthy'}
              tone={overview.database.healthy ? 'ok' : 'bad'}
            />
          </dl>
          <h2>Current lockouts</h2>
          <table class="grid" data-testid="lockouts-table">
            <thead>
              <tr>
                <th>Email</th>
                <th>Locked until</th>
              </tr>
            </thead>
            <tbody>
              {overview.lockouts.users.map((locked) => (
                <tr key={`${locked.email}-${locked.lockedUntil}`} data-testid="lockout-row">
                  <td>{locked.userId === null ? locked.email : <a href={userHref(locked.userId)}>{locked.email}</a>}</td>
                  <td>
                    <Time iso={locked.lockedUntil} />
                  </td>
                </tr>
              ))}
              {overview.lockouts.users.length === 0 && (
                <tr>
                  <td colSpan={2} class="muted">
                    None.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
