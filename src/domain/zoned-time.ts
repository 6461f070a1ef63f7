/**
 * Wall-clock times of a time zone as instants, with the runtime's IANA
 * time-zone database (Intl), so a zone's daylight-saving changes are its own:
 * 15:15 in America/New_York is 19:15 UTC in July and 20:15 UTC in January.
 *
 * A local time a zone skips (a spring-forward gap) is taken at the offset
 * in force before the gap, which lands it after the gap by the gap's length
 * (02:30 on a night that jumps from 02:00 to 03:00 is 03:30); a local time
 * that happens twice (fall back) is its first occurrence.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The zone's wall clock at `ms`, as if it were UTC: epoch ms of the same calendar fields. */
function wallClockAsUtc(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** The zone's offset from UTC at instant `ms`, in ms (+05:30 is 19,800,000). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClockAsUtc(whole, timeZone) - whole;
}

/** The instant at which the zone's wall clock shows `minutesOfDay` on the local day whose midnight-as-UTC is `dayAsUtc`. */
function instantOf(dayAsUtc: number, minutesOfDay: number, timeZone: string): number {
  const wall = dayAsUtc + minutesOfDay * MINUTE_MS;
  // The offset before the wall time, then corrected once: exact except inside a gap (see above).
  const before = zoneOffsetMs(wall - zoneOffsetMs(wall - DAY_MS / 2, timeZone) - DAY_MS / 2, timeZone);
  const guess = wall - before;
  const at = zoneOffsetMs(guess, timeZone);
  return at === before || wallClockAsUtc(wall - at, timeZone) !== wall ? guess : wall - at;
}

/** "HH:MM" as minutes of the day; undefined when it is not a 24-hour time. */
export function minutesOfDay(localTime: string): number | undefined {
  const match = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(localTime);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/**
 * The last answer of `nextLocalTime` per zone and local time, and the earliest `afterMs` it was
 * computed for: the answer for every `afterMs` from there up to the answer itself (no occurrence
 * lies between). Registrations with a session-end default all ask for the same one, each through
 * several Intl calls otherwise. Bounded: emptied when full (requests choose the zone and the time).
 */
const remembered = new Map<string, { readonly from: number; readonly at: number }>();
const MAX_REMEMBERED = 1_024;

/**
 * The first instant after `afterMs` (epoch ms) at which the zone's wall clock
 * shows `localTime` ("HH:MM"): today's when it is still ahead, else tomorrow's.
 */
export function nextLocalTime(localTime: string, timeZone: string, afterMs: number): number {
  const key = `${timeZone} ${localTime}`;
  const known = remembered.get(key);
  if (known && known.from <= afterMs && afterMs < known.at) return known.at;
  const at = firstLocalTimeAfter(localTime, timeZone, afterMs);
  if (!known && remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(key, { from: known?.at === at ? Math.min(known.from, afterMs) : afterMs, at });
  return at;
}

/** `nextLocalTime` computed, not remembered. */
export function firstLocalTimeAfter(localTime: string, timeZone: string, afterMs: number): number {
  const minutes = minutesOfDay(localTime);
  if (minutes === undefined) throw new RangeError(`local time "${localTime}" is not HH:MM`);
  const wallNow = wallClockAsUtc(afterMs, timeZone);
  const today = wallNow - (((wallNow % DAY_MS) + DAY_MS) % DAY_MS);
  for (let day = today; ; day += DAY_MS) {
    const at = instantOf(day, minutes, timeZone);
    if (at > afterMs) return at;
  }
}
