/** RFC 3339 with whole seconds, as Kubernetes writes timestamps (metav1.Time). */
export function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
