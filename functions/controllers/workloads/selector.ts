import type { LabelSelector } from '../../../shared/api/core.js';

export { selectorMatcher } from '../../../shared/api/label-selector.js';

/** A selector selecting everything: a Deployment with one would take every pod of its namespace. */
export function selectsEverything(selector: LabelSelector | undefined): boolean {
  return (
    selector !== undefined &&
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

/** The selector with one more required label (`labelsutil.CloneSelectorAndAddLabel`). */
export function withLabel(selector: LabelSelector, key: string, value: string): LabelSelector {
  return { ...selector, matchLabels: { ...selector.matchLabels, [key]: value } };
}
