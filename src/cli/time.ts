/** Expiry times for people: relative ("in 59 minutes") and absolute (UTC). */

/** `2025-01-31 14:05:00 UTC`. */
export function absoluteTime(unixSeconds: number): string {
  return new Date(Math.round(unixSeconds) * 1000).toISOString()
    .replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** `in 59 minutes`, `in 1 hour 5 minutes`, `2 days 3 hours ago`, `in 20 seconds`. */
export function relativeTime(unixSeconds: number, now: number): string {
  const delta = unixSeconds - now;
  const seconds = Math.round(Math.abs(delta));
  let text: string;
  if (seconds < 60) text = plural(seconds, "second");
  else {
    const minutes = Math.round(seconds / 60);
    const hours = Math.floor(minutes / 60);
    const days = Math.floor(hours / 24);
    text = minutes < 60 ? plural(minutes, "minute") : hours < 24
      ? [
        plural(hours, "hour"),
        minutes % 60 ? plural(minutes % 60, "minute") : "",
      ]
        .join(" ").trim()
      : [plural(days, "day"), hours % 24 ? plural(hours % 24, "hour") : ""]
        .join(" ").trim();
  }
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** `in 59 minutes (2025-01-31 14:05:00 UTC)`. */
export function expiryText(unixSeconds: number, now: number): string {
  if (!Number.isFinite(unixSeconds)) return "unknown";
  return `${relativeTime(unixSeconds, now)} (${absoluteTime(unixSeconds)})`;
}
