/**
 * Label and label-selector rendering as the printers use it: `labels.FormatLabels`,
 * `metav1.LabelSelectorAsSelector(...).String()` and `metav1.FormatLabelSelector`.
 */

export interface LabelSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** `labels.FormatLabels`: `k=v` pairs sorted by key, joined by commas; `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const text = Object.keys(labels ?? {})
    .sort(compare)
    .map((k) => `${k}=${labels?.[k]}`)
    .join(',');
  return text === '' ? '<none>' : text;
}

/**
 * `LabelSelectorAsSelector(selector).String()`: requirements sorted by key (`k=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`), values sorted; `''` for a nil or empty selector; `undefined` when the
 * selector is invalid (bad operator, key, value or value count), where upstream returns an error.
 */
export function selectorString(selector: LabelSelector | null | undefined): string | undefined {
  if (selector === null || selector === undefined) return '';
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!validKey(key) || !validValue(value)) return undefined;
    requirements.push({ key, text: `${key}=${value}` });
  }
  for (const expr of selector.matchExpressions ?? []) {
    const key = expr.key ?? '';
    const values = expr.values ?? [];
    if (!validKey(key) || !values.every(validValue)) return undefined;
    const list = values.length === 1 ? values[0] : [...values].sort(compare).join(',');
    switch (expr.operator) {
      case 'In':
        if (values.length === 0) return undefined;
        requirements.push({ key, text: `${key} in (${list})` });
        break;
      case 'NotIn':
        if (values.length === 0) return undefined;
        requirements.push({ key, text: `${key} notin (${list})` });
        break;
      case 'Exists':
        if (values.length !== 0) return undefined;
        requirements.push({ key, text: key });
        break;
      case 'DoesNotExist':
        if (values.length !== 0) return undefined;
        requirements.push({ key, text: `!${key}` });
        break;
      default:
        return undefined;
    }
  }
  // Selector.Add sorts by key; a stable sort keeps equal keys in input order.
  return requirements
    .sort((a, b) => compare(a.key, b.key))
    .map((r) => r.text)
    .join(',');
}

/** `metav1.FormatLabelSelector`: the selector string, `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  const text = selectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const nameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dns1123SubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `validation.IsQualifiedName`: `[prefix/]name`, the prefix a DNS-1123 subdomain. */
function validKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.at(-1) ?? '';
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0 || prefix.length > 253 || !dns1123SubdomainRe.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && nameRe.test(name);
}

/** `validation.IsValidLabelValue`: empty, or a name of at most 63 characters. */
function validValue(value: unknown): boolean {
  return typeof value === 'string' && (value === '' || (value.length <= 63 && nameRe.test(value)));
}
