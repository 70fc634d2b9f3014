/** discovery.k8s.io/v1 endpointslices: upstream's `printEndpointSlice`. */

import type { KubernetesObject } from '../../../shared/api/types.js';
import { ageColumn, arr, column, nameColumn, type Printer, str } from './common.js';
import { since } from './duration.js';

interface EndpointSlice extends KubernetesObject {
  addressType?: string;
  ports?: { name?: string | null; port?: number | null }[] | null;
  endpoints?: { addresses?: string[] }[] | null;
}

export const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'AddressType',
      'string',
      'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
    ),
    column(
      'Ports',
      'string',
      'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
    ),
    column(
      'Endpoints',
      'string',
      'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.',
    ),
    ageColumn,
  ],
  print(object, { now }) {
    const slice = object as EndpointSlice;
    // formatDiscoveryPorts: the port number, else its name, else `*` (all ports).
    const ports = arr(slice.ports).map((p) =>
      typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*',
    );
    const addresses = arr(slice.endpoints).flatMap((e) => arr(e.addresses).map(str));
    return {
      cells: [
        slice.metadata.name,
        str(slice.addressType),
        listWithMore(ports),
        listWithMore(addresses),
        since(slice.metadata.creationTimestamp, now),
      ],
    };
  },
};

/** `listWithMoreString` with the printers' max of 3: `a,b,c + N more...`, `<unset>` when empty. */
function listWithMore(items: string[]): string {
  const max = 3;
  const text = items.slice(0, max).join(',');
  if (items.length > max) return `${text} + ${items.length - max} more...`;
  return text === '' ? '<unset>' : text;
}
