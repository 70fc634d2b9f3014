/**
 * Reading a function's settings from environment variables at cold start: every problem is collected,
 * then reported at once in one error naming each variable.
 */
export function settingsReader(component: string, environment: Record<string, string | undefined>) {
  const problems: string[] = [];
  return {
    /** The variable's value, trimmed; a problem if it is missing or empty. */
    required(name: string, what: string): string {
      const value = environment[name]?.trim() ?? '';
      if (value === '') problems.push(`${name} is not set (${what})`);
      return value;
    },
    /** The variable's value, trimmed; undefined if it is missing or empty. */
    optional(name: string): string | undefined {
      const value = environment[name]?.trim();
      return value === '' ? undefined : value;
    },
    /** A whole number (e.g. milliseconds); a problem if it is set to anything else. */
    wholeNumber(name: string, what: string): number | undefined {
      const value = environment[name]?.trim();
      if (value === undefined || value === '') return undefined;
      if (!/^\d+$/.test(value)) {
        problems.push(`${name} must be ${what}`);
        return undefined;
      }
      return Number(value);
    },
    /** Throws the problems found so far, if any. */
    check(): void {
      if (problems.length > 0) throw new Error(`${component} configuration: ${problems.join('; ')}`);
    },
  };
}
