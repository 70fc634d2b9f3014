/** The EC2 instance behind a Node, from its `spec.providerID` (`aws:///<az>/<instance-id>`). */
import type { Node } from '../../shared/api/core.js';

const awsProviderId = /^aws:\/\/\/?(?:[^/]*\/)?(i-[0-9a-f]+)$/;

/** The instance id, or undefined for a node that is not an EC2 instance (or says nothing). */
export function instanceIdOf(node: Node): string | undefined {
  const providerId = node.spec?.providerID;
  return providerId ? awsProviderId.exec(providerId)?.[1] : undefined;
}
