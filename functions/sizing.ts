/**
 * Memory, timeouts and event batching of the stack's functions. Memory and timeouts from `npm run bench:sizing` (the bundles as deployed,
 * in a Node.js process of their own, invoked with Lambda's events against DynamoDB Local; on this
 * 2-core machine, Node 20):
 * - API server: cold start 1.3–2.2 s to the first answer (module load, the tokens, the system
 *   namespaces), 77 MiB resident after it; listing 1,000 ConfigMaps peaks at 126–133 MiB and takes
 *   0.7–1.1 s of one core (JSON) or 0.2–0.7 s (Table).
 * - Scheduler: 77 MiB after its cold start; a stream batch of 100 new pods on 10 nodes peaks at
 *   135 MiB and takes 7–12 s here, most of it waiting on DynamoDB Local's serialised transactions.
 * Lambda's CPU grows with memory (1,769 MB is one vCPU). 512 MB gives 3.8× the measured peak and about
 * 0.29 vCPU, so a 1,000-object list stays within a few seconds; 256 MB would fit the memory but
 * stretch CPU-bound work about 7×. Watches are mostly idle and billed by the GB-second they stay open
 * (see the cost model, `npm run cost`).
 *
 * Plain numbers, so the local runtime's metering reads the same figures the stack deploys.
 */
export const sizing = {
  /**
   * The API server. Its timeout bounds a watch: the handler ends a watch cleanly ~2 s before the
   * deadline and clients reconnect. 900 s is Lambda's (and a streamed function URL's) maximum; a
   * shorter one costs less per open watch but makes clients reconnect more often.
   */
  apiserver: { memoryMiB: 512, timeoutSeconds: 900 },
  /**
   * A control function: a stream batch (up to 100 records, reconciled 8 at a time) or a retry-queue
   * batch. 120 s is ten times the slowest 100-pod batch measured, which leaves room for the smaller
   * CPU share.
   */
  control: { memoryMiB: 512, timeoutSeconds: 120 },
} as const;

/**
 * How the control functions' event sources batch (first estimates, like the sizing): up to 100 stream
 * records per invocation, gathered for up to 1 s (that much latency for fewer invocations; the runtime
 * de-duplicates keys within a batch), and up to 10 retry-queue messages, also within 1 s.
 */
export const batching = {
  stream: { batchSize: 100, windowSeconds: 1 },
  queue: { batchSize: 10, windowSeconds: 1 },
} as const;
