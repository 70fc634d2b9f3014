/**
 * What the control plane uses of each billed AWS service, counted as it happens, by service and by name
 * within it (a DynamoDB operation, a function, a queue action): DynamoDB requests and capacity units,
 * Lambda invocations and billed duration, SQS requests, function-URL requests and bytes, schedule
 * invocations, the agents' calls. Every source adds to one Meter; `snapshot` is the JSON the cost model
 * reads.
 */

/** Counts of one name: `{ requests: 3, readUnits: 1.5 }`. */
export type Counts = Record<string, number>;
/** service → name → counts. */
export type Usage = Record<string, Record<string, Counts>>;

export class Meter {
  private usage: Usage = {};

  add(service: string, name: string, counts: Counts): void {
    const names = this.usage[service] ?? {};
    const current = names[name] ?? {};
    for (const [metric, value] of Object.entries(counts)) current[metric] = (current[metric] ?? 0) + value;
    names[name] = current;
    this.usage[service] = names;
  }

  /** A copy of everything counted so far. */
  snapshot(): Usage {
    return structuredClone(this.usage);
  }

  /** Starts counting from zero (a scenario's measured window). */
  reset(): void {
    this.usage = {};
  }
}

/** Sums `metric` over the names of `service` (only those `name` accepts, if given). */
export function total(
  usage: Usage,
  service: string,
  metric: string,
  name: (n: string) => boolean = () => true,
): number {
  return Object.entries(usage[service] ?? {})
    .filter(([n]) => name(n))
    .reduce((sum, [, counts]) => sum + (counts[metric] ?? 0), 0);
}

/** The API action a middleware sees (`GetItemCommand` → `GetItem`). */
export function actionOf(context: { commandName?: string }): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}
