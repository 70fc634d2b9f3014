import { readdir, readFile, statfs } from 'node:fs/promises';
import { arch, cpus, freemem, hostname, networkInterfaces, release, totalmem } from 'node:os';

/** What the agent reads off the machine it runs on: capacity, identity and pressure. */
export interface MachineFacts {
  hostname: string;
  /** The first non-internal IPv4 address (the node's InternalIP). */
  internalIP: string;
  cpus: number;
  memoryBytes: number;
  memoryAvailableBytes: number;
  diskBytes: number;
  diskAvailableBytes: number;
  pidMax: number;
  pidsInUse: number;
  osImage: string;
  kernelVersion: string;
  /** Kubernetes' names: amd64, arm64. */
  architecture: string;
  machineID: string;
  bootID: string;
}

const readTrimmed = (path: string) =>
  readFile(path, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );

function firstIPv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return '127.0.0.1';
}

async function osImage(): Promise<string> {
  const text = await readTrimmed('/etc/os-release');
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'Linux';
}

/** Reads the facts now; `dataDir` is where pods' volumes live (its filesystem is the node's disk). */
export async function readMachineFacts(dataDir: string): Promise<MachineFacts> {
  const [disk, image, machineID, bootID, pidMax, processes] = await Promise.all([
    statfs(dataDir),
    osImage(),
    readTrimmed('/etc/machine-id'),
    readTrimmed('/proc/sys/kernel/random/boot_id'),
    readTrimmed('/proc/sys/kernel/pid_max'),
    readdir('/proc').then((names) => names.filter((n) => /^\d+$/.test(n)).length),
  ]);
  return {
    hostname: hostname(),
    internalIP: firstIPv4(),
    cpus: cpus().length,
    memoryBytes: totalmem(),
    memoryAvailableBytes: freemem(),
    diskBytes: disk.blocks * disk.bsize,
    diskAvailableBytes: disk.bavail * disk.bsize,
    pidMax: Number(pidMax) || 32768,
    pidsInUse: processes,
    osImage: image,
    kernelVersion: release(),
    architecture: arch() === 'x64' ? 'amd64' : arch(),
    machineID,
    bootID,
  };
}
