import { type ServiceProcess, startServiceProcess } from '@k1s0/platform/testing';

/**
 * config-server as its own process (src/main.ts through tsx) on `databaseUrl`, with dev tokens,
 * no Kafka and ephemeral ports; resolves once it logged its REST port.
 */
export async function startConfigServerProcess(
  databaseUrl: string,
  logLevel: string,
): Promise<{ service: ServiceProcess; port: number }> {
  const service = startServiceProcess({
    entry: 'apps/config-server/src/main.ts',
    env: {
      APP_ENV: 'test',
      DATABASE_URL: databaseUrl,
      PORT: '0',
      GRPC_PORT: '0',
      LOG_LEVEL: logLevel,
      KAFKA_BROKERS: '',
      AUTH_JWKS_URL: undefined,
      AUTH_DEV_SECRET: undefined,
    },
  });
  try {
    await service.waitForOutput(/"restPort":\d+/);
  } catch (error) {
    await service.stop('SIGKILL');
    throw error;
  }
  return { service, port: Number(/"restPort":(\d+)/.exec(service.stdout)?.[1]) };
}
