// A greeting that fits the time of day.
export function greeting(appName, hour) {
  if (hour < 12) return `Good morning from ${appName}`;
  if (hour < 18) return `Good afternoon from ${appName}`;
  return `Good evening from ${appName}`;
}
