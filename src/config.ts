import { hostname } from 'node:os';

export interface Config {
  port: number;
  address: string;
  dataDir: string;
  token?: string;
  advertiseAddr: string;
  dockerHost?: string;
  instance: string;
  hostname: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.K2D_PORT ?? 6443);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`K2D_PORT: not a port: ${env.K2D_PORT}`);
  return {
    port,
    address: env.K2D_ADDRESS || '0.0.0.0',
    dataDir: env.K2D_DATA_DIR || '/var/lib/k2d',
    token: env.K2D_TOKEN || undefined,
    advertiseAddr: env.K2D_ADVERTISE_ADDR || '127.0.0.1',
    dockerHost: env.DOCKER_HOST || undefined,
    instance: env.K2D_INSTANCE || 'default',
    hostname: hostname(),
  };
}
