import { useEffect, useState } from 'preact/hooks';
import { AUDIT_ACTIONS } from '../../../../libs/sessions/src/domain/audit-action';
import { describeError, get } from './api';
import { groupByCorrelation } from './audit-groups';
import { type AuditFilterKey, type AuditFilters, auditHref, isoToLocalInput, localInputToIso, queryString, userHref } from './routes';
import { Time } from './time';
import type { AuditEntry, AuditPage } from './views';

const PAGE_SIZE = 50;
const OUTCOMES = ['attempted', 'succeeded', 'failed'] as const;

/** The text inputs of the filter form, in the order shown. */
const TEXT_FILTERS: readonly { key: AuditFilterKey; label: string }[] = [
  { key: 'userId', label: 'User id' },
  { key: 'actorId', label: 'Actor id' },
  { key: 'ipAddress', label: 'IP address' },
  { key: 'sessionId', label: 'Session id' },
  { key: 'correlationId', label: 'Correlation id' },
  { key: 'requestId', label: 'Request id' },
];

/** A value that filters the trail when clicked: the link replaces the filters with this one. */
function FilterLink({ filter, value, short }: { filter: AuditFilterKey; value: string | null; short?: boolean }) {
  if (value === null) return <span class="muted">—</span>;
  return (
    <a href={auditHref({ [filter]: value })} title={`Only the entries with ${filter} ${value}`}>
      {short ? <code>{value.slice(0, 8)}</code> : value}
    </a>
  );
}

/** The audit trail: filters, newest first, a page at a time, operations grouped, each entry expandable, and the export of the filtered set. */
export function AuditTrail({ filters }: { filters: AuditFilters }) {
  const [form, setForm] = useState<AuditFilters>(filters);
  const [entries, setEntries] = useState<readonly AuditEntry[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const filterKey = queryString(filters);

  const load = async (cursor: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await get<AuditPage>(`/admin/audit${queryString({ ...filters, limit: PAGE_SIZE, cursor })}`);
      setEntries((shown) => (cursor === null ? page.entries : [...shown, ...page.entries]));
      setNextCursor(page.nextCursor);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    setForm(filters);
    setExpanded(new Set());
    void load(null);
  }, [filterKey]);

  const set = (key: AuditFilterKey, value: string | undefined) => setForm((current) => ({ ...current, [key]: value }));
  const toggle = (eventId: string) =>
    setExpanded((current) => {
      const next = new Set(current);
      if (!next.delete(eventId)) next.add(eventId);
      return next;
    });

  return (
    <section>
      <h1>Audit trail</h1>
      <form
        class="filters"
        data-testid="audit-filters"
        onSubmit={(event) => {
          event.preventDefault();
          location.hash = auditHref(form);
        }}
      >
        {TEXT_FILTERS.map(({ key, label }) => (
          <label key={key}>
            {label}
            <input name={key} value={form[key] ?? ''} onInput={(event) => set(key, event.currentTarget.value)} spellcheck={false} />
          </label>
        ))}
        <label>
          Action
          <select name="action" value={form.action ?? ''} onChange={(event) => set('action', event.currentTarget.value)}>
            <option value="">any</option>
            {AUDIT_ACTIONS.map((action) => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
        </label>
        <label>
          Outcome
          <select name="outcome" value={form.outcome ?? ''} onChange={(event) => set('outcome', event.currentTarget.value)}>
            <option value="">any</option>
            {OUTCOMES.map((outcome) => (
              <option key={outcome} value={outcome}>
                {outcome}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input
            type="datetime-local"
            name="from"
            value={isoToLocalInput(form.from)}
            onInput={(event) => set('from', localInputToIso(event.currentTarget.value))}
          />
        </label>
        <label>
          To
          <input type="datetime-local" name="to" value={isoToLocalInput(form.to)} onInput={(event) => set('to', localInputToIso(event.currentTarget.value))} />
        </label>
        <div class="buttons">
          <button type="submit" class="primary">
            Apply
          </button>
          <a class="button" href="#/audit">
            Clear
          </a>
          <span class="spacer" />
          <a class="button" href={`/admin/audit/export${queryString({ format: 'ndjson', ...filters })}`} download>
            Export NDJSON
          </a>
          <a class="button" href={`/admin/audit/export${queryString({ format: 'csv', ...filters })}`} download>
            Export CSV
          </a>
        </div>
      </form>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table class="grid audit" data-testid="audit-table">
        <thead>
          <tr>
            <th>When</th>
            <th>Action</th>
            <th>Outcome</th>
            <th>User</th>
            <th>Actor</th>
            <th>IP address</th>
            <th>Reason</th>
            <th>Request</th>
            <th />
          </tr>
        </thead>
        {groupByCorrelation(entries).map((group) => (
          <tbody key={group.correlationId} data-testid="audit-group" data-correlation-id={group.correlationId}>
            {group.entries.map((entry, index) => (
              <AuditRow key={entry.eventId} entry={entry} first={index === 0} open={expanded.has(entry.eventId)} onToggle={() => toggle(entry.eventId)} />
            ))}
          </tbody>
        ))}
        {!loading && entries.length === 0 && error === null && (
          <tbody>
            <tr>
              <td colSpan={9} class="muted">
                No entry matches.
              </td>
            </tr>
          </tbody>
        )}
      </table>
      <p class="pager">
        {loading && <span class="muted">Loading…</span>}
        {!loading && nextCursor !== null && (
          <button type="button" onClick={() => void load(nextCursor)}>
            Load more
          </button>
        )}
      </p>
    </section>
  );
}

function actorText(entry: AuditEntry): string {
  return entry.actorName ?? entry.actorType;
}

function AuditRow({ entry, first, open, onToggle }: { entry: AuditEntry; first: boolean; open: boolean; onToggle: () => void }) {
  return (
    <>
      <tr data-testid="audit-row" data-event-id={entry.eventId} data-outcome={entry.outcome} class={first ? 'group-first' : 'group-rest'}>
        <td>
          <Time iso={entry.occurredAt} />
        </td>
        <td>{first ? entry.action : <span class="muted">↳ {entry.action}</span>}</td>
        <td>
          <span class={`badge outcome-${entry.outcome}`}>{entry.outcome}</span>
        </td>
        <td>
          {entry.userId === null ? (
            <span class="muted">—</span>
          ) : (
            <>
              <FilterLink filter="userId" value={entry.userId} short />{' '}
              <a href={userHref(entry.userId)} class="small-link">
                user
              </a>
            </>
          )}
        </td>
        <td>
          {actorText(entry)} {entry.actorId !== null && <FilterLink filter="actorId" value={entry.actorId} short />}
        </td>
        <td>
          <FilterLink filter="ipAddress" value={entry.ipAddress} />
        </td>
        <td class="reason">{entry.reason ?? <span class="muted">—</span>}</td>
        <td>
          <FilterLink filter="requestId" value={entry.requestId} short />
        </td>
        <td class="row-actions">
          <button type="button" class="small" aria-expanded={open} onClick={onToggle}>
            Details
          </button>
        </td>
      </tr>
      {open && (
        <tr class="details-row">
          <td colSpan={9}>
            <dl class="facts">
              <dt>Event</dt>
              <dd>
                <code>{entry.eventId}</code>
              </dd>
              <dt>Correlation</dt>
              <dd>
                <FilterLink filter="correlationId" value={entry.correlationId} />
              </dd>
              <dt>Session</dt>
              <dd>
                <FilterLink filter="sessionId" value={entry.sessionId} />
              </dd>
              <dt>User agent</dt>
              <dd>{entry.userAgent ?? <span class="muted">—</span>}</dd>
            </dl>
            <pre data-testid="audit-details">{JSON.stringify(entry.details, null, 2)}</pre>
          </td>
        </tr>
      )}
    </>
  );
}
