/**
 * Kubernetes' remote-command WebSocket protocol (what `kubectl exec` speaks since 1.30): binary messages
 * whose first byte is a channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize). `v5.channel.k8s.io`
 * adds channel 255, with which the client closes one of its channels (stdin's EOF). The error channel
 * carries one Status at the end: Success, or the exit code as upstream's NonZeroExitCode cause.
 */

/** The subprotocols served, most preferred first. */
export const remoteCommandProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export const channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** The protocol to speak of those the client offers, or false when none is served. */
export function chooseProtocol(offered: Set<string>): string | false {
  return remoteCommandProtocols.find((p) => offered.has(p)) ?? false;
}

export function frame(channelId: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channelId]), payload]);
}

export type ClientMessage =
  | { type: 'stdin'; data: Buffer }
  | { type: 'resize'; width: number; height: number }
  | { type: 'close-stdin' }
  | { type: 'ignored' };

/** What a message from the client asks for; malformed ones are ignored, as upstream does. */
export function parseClientMessage(message: Buffer): ClientMessage {
  const id = message[0];
  const data = message.subarray(1);
  if (id === channel.stdin) return { type: 'stdin', data };
  if (id === channel.close && data[0] === channel.stdin) return { type: 'close-stdin' };
  if (id === channel.resize) {
    try {
      const size = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
      if (typeof size.Width === 'number' && typeof size.Height === 'number')
        return { type: 'resize', width: size.Width, height: size.Height };
    } catch {
      // Not JSON: ignored.
    }
  }
  return { type: 'ignored' };
}

/** The Status written on the error channel when the command ends with `exitCode`. */
export function exitStatus(command: string[], exitCode: number): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command ${JSON.stringify(command)}, exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The Status written on the error channel when the command could not run at all. */
export function failureStatus(message: string): object {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}
