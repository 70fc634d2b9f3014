/**
 * Kubernetes resource quantities (k8s.io/apimachinery `resource.Quantity`), parsed exactly: a decimal
 * number with an optional binary (`Ki`…`Ei`), decimal (`n`…`E`) or exponent (`e3`, `E-2`) suffix.
 * The arithmetic is on BigInt, so `0.1` CPU is 100 millicores, never 100.00000000000001.
 */

const binary: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimal: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const pattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(.*)$/;

/** A quantity as `numerator / denominator`, both BigInt; `undefined` when it does not parse. */
function rational(text: string): { numerator: bigint; denominator: bigint } | undefined {
  const match = pattern.exec(text.trim());
  if (!match) return undefined;
  const [, sign, number, suffix] = match as unknown as [string, string, string, string];
  const [whole = '', fraction = ''] = number.split('.');
  let numerator = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n);
  let denominator = 10n ** BigInt(fraction.length);
  if (suffix in binary) {
    numerator *= 2n ** BigInt(binary[suffix] as number);
  } else {
    let exponent: number;
    if (suffix in decimal) exponent = decimal[suffix] as number;
    else if (/^[eE][+-]?\d+$/.test(suffix)) exponent = Number(suffix.slice(1));
    else return undefined;
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  return { numerator, denominator };
}

function ceilDivide(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return numerator % denominator > 0n ? quotient + 1n : quotient;
}

function toNumber(value: bigint): number {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(value > max ? max : value < -max ? -max : value);
}

/** The quantity times `scale`, rounded up as `Quantity.ScaledValue` does; `undefined` if it does not parse. */
export function parseScaled(text: string, scale: number): number | undefined {
  const value = rational(text);
  if (!value) return undefined;
  const factor = 10n ** BigInt(Math.max(0, scale));
  return toNumber(ceilDivide(value.numerator * factor, value.denominator));
}

/** CPU in millicores (`100m` → 100, `0.5` → 500, `2` → 2000), rounded up. */
export function milliValue(text: string): number | undefined {
  return parseScaled(text, 3);
}

/** An integer quantity (bytes of memory, pods, extended resources), rounded up (`1Gi` → 1073741824). */
export function value(text: string): number | undefined {
  return parseScaled(text, 0);
}

/** A resource's amount in the scheduler's units: millicores for `cpu`, whole units for anything else. */
export function resourceAmount(resource: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return resource === 'cpu' ? milliValue(text) : value(text);
}
