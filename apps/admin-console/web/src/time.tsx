/** A date as people read it (local time), with the exact instant (ISO 8601, UTC) on hover and for machines. */
const LOCAL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function formatLocal(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : LOCAL.format(time);
}

export function Time({ iso, empty = '—' }: { iso: string | null | undefined; empty?: string }) {
  if (iso === null || iso === undefined || iso === '') return <span class="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatLocal(iso)}
    </time>
  );
}
