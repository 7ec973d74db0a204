// Where a component's own errors go when it was given nowhere else: one timestamped line on stderr,
// never a raw stack beside the daemon's timestamped log.
import { errorText } from './errors.js';

export function logError(prefix: string): (err: unknown) => void {
  return (err) => {
    process.stderr.write(`${new Date().toISOString()} ${prefix}: ${errorText(err)}\n`);
  };
}
