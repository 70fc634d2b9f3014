/**
 * The apiserver's default table convertor (`rest.NewDefaultTableConvertor`), used for resources
 * without a printer: NAME, and CREATED AT as an RFC 3339 date.
 */

import { column, creationTimestampDescription, nameColumn, type Printer } from './common.js';
import { rfc3339 } from './duration.js';

export const defaultPrinter: Printer = {
  columns: [nameColumn, column('Created At', 'date', creationTimestampDescription)],
  print(object) {
    return { cells: [object.metadata.name, rfc3339(object.metadata.creationTimestamp)] };
  },
};
