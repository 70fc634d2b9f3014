import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';

/**
 * An instance's private DNS name (what its agent names its Node), for the IAM mapping of worker roles
 * to `system:node:{{EC2PrivateDNSName}}`, as EKS maps them. Names never change while an instance
 * lives, so each is asked once per container.
 */
export function instancePrivateDnsName(ec2: EC2Client): (instanceId: string) => Promise<string> {
  const names = new Map<string, Promise<string>>();
  return (instanceId) => {
    let name = names.get(instanceId);
    if (!name) {
      name = ec2
        .send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))
        .then((answer) => answer.Reservations?.[0]?.Instances?.[0]?.PrivateDnsName?.toLowerCase() ?? '');
      names.set(instanceId, name);
      name.then(
        (found) => found === '' && names.delete(instanceId),
        () => names.delete(instanceId),
      );
    }
    return name;
  };
}
