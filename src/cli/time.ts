/** Expiry times for people: relative ("in 59 minutes") and absolute (UTC). */

/** `2025-01-31 14:05:00 UTC`. */
export function absoluteTime(unixSeconds: number): string {
  return new Date(Math.round(unixSeconds) * 1000).toISOString()
    .replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** `in 59 minutes`, `3 hours ago`, `in 20 seconds`. */
export function relativeTime(unixSeconds: number, now: number): string {
  const delta = Math.round(unixSeconds - now);
  const abs = Math.abs(delta);
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  const [size, unit] = units.find(([size]) => abs >= size) ?? units[3];
  const n = Math.floor(abs / size);
  const text = `${n} ${unit}${n === 1 ? "" : "s"}`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** `in 59 minutes (2025-01-31 14:05:00 UTC)`. */
export function expiryText(unixSeconds: number, now: number): string {
  if (!Number.isFinite(unixSeconds)) return "unknown";
  return `${relativeTime(unixSeconds, now)} (${absoluteTime(unixSeconds)})`;
}
