import type { LabelSelector } from './core.js';

/**
 * `metav1.LabelSelectorAsSelector` for the selector objects of workloads: an empty selector selects
 * everything, an absent one nothing (as upstream, where only a nil selector selects nothing).
 */
export function selectorMatcher(
  selector: LabelSelector | undefined,
): (labels: Record<string, string> | undefined) => boolean {
  if (!selector) return () => false;
  const wanted = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  return (labels = {}) =>
    wanted.every(([key, value]) => labels[key] === value) &&
    expressions.every(({ key, operator, values = [] }) => {
      const has = Object.hasOwn(labels, key);
      switch (operator) {
        case 'In':
          return has && values.includes(labels[key] as string);
        case 'NotIn':
          return !has || !values.includes(labels[key] as string);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    });
}
