/**
 * Time formatting as the upstream printers do it: apimachinery's `duration.HumanDuration` and the
 * printers' `translateTimestampSince` (`<unknown>` for a zero time).
 */

/** Milliseconds of Go's zero `time.Time` (0001-01-01T00:00:00Z), which `metav1.Time` treats as unset. */
const zeroMs = Date.parse('0001-01-01T00:00:00Z');

/**
 * Parses a `metav1.Time` / `metav1.MicroTime` wire value. `undefined` for a zero (absent, null, empty,
 * Go zero) or unparsable time, as `IsZero()` would report it.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || ms === zeroMs) return undefined;
  return ms;
}

/**
 * `duration.HumanDuration`: a succinct duration with ~2-3 significant figures, tolerating up to 2s
 * (exclusive) of clock skew into the future as `0s`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** `translateTimestampSince`: the age of `timestamp` at `now`, `<unknown>` when it is unset. */
export function since(timestamp: unknown, now: Date): string {
  const ms = parseTime(timestamp);
  return ms === undefined ? '<unknown>' : humanDuration(now.getTime() - ms);
}

/** `Time.UTC().Format(time.RFC3339)` as the default table convertor writes `Created At`. */
export function rfc3339(timestamp: unknown): string {
  const ms = parseTime(timestamp);
  if (ms === undefined) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
