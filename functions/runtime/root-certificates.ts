import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';

/**
 * Amazon Trust Services' root certificates, from the ones Node trusts: what verifies a Lambda function
 * URL's certificate (ACM), and so what pods on AWS verify the API server with.
 */
export function amazonRootCertificates(): string {
  const roots = rootCertificates.filter((pem) =>
    /CN=(Amazon Root CA \d|Starfield Services Root Certificate Authority - G2)/.test(
      new X509Certificate(pem).subject,
    ),
  );
  if (roots.length === 0) throw new Error("Node's root certificates hold no Amazon root");
  return `${roots.join('\n')}\n`;
}
