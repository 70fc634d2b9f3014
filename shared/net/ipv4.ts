/** IPv4 addresses as 32-bit numbers, and CIDR blocks of them (pod CIDRs, the cluster CIDR, VPC routes). */

const addressPattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** `a.b.c.d` as a number, or undefined when it is not a dotted IPv4 address. */
export function parseIPv4(text: string): number | undefined {
  const parts = addressPattern.exec(text)?.slice(1).map(Number);
  if (!parts || parts.some((p) => p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function formatIPv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

export interface IPv4Cidr {
  /** The address as written (host bits and all). */
  address: number;
  /** The address with the host bits cleared. */
  network: number;
  prefix: number;
}

/** `a.b.c.d/n`, or undefined when it is not IPv4 CIDR notation. */
export function parseIPv4Cidr(text: string): IPv4Cidr | undefined {
  const [written = '', bits, ...rest] = text.split('/');
  const address = parseIPv4(written);
  if (address === undefined || rest.length > 0 || bits === undefined || !/^\d{1,2}$/.test(bits))
    return undefined;
  const prefix = Number(bits);
  if (prefix > 32) return undefined;
  return { address, network: address - (address % 2 ** (32 - prefix)), prefix };
}

/** Whether the address lies in the block. */
export function inIPv4Cidr(address: number, cidr: Pick<IPv4Cidr, 'network' | 'prefix'>): boolean {
  return address - (address % 2 ** (32 - cidr.prefix)) === cidr.network;
}

/** Whether the block `inner` lies inside the block `outer`. */
export function ipv4CidrContains(outer: IPv4Cidr, inner: IPv4Cidr): boolean {
  return inner.prefix >= outer.prefix && inIPv4Cidr(inner.network, outer);
}
