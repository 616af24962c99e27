/**
 * `npm start` (and `npm run demo`): read the configuration, start the gateway, stop cleanly on
 * SIGINT/SIGTERM. A bad configuration prints every problem and exits with status 2.
 */
import { loadConfig } from './config.js';
import { createGateway, createLogger } from './gateway.js';
import { SiteFileError } from './site-file.js';

async function main(): Promise<void> {
  const result = loadConfig(process.env, process.argv.slice(2));
  if (!result.ok) {
    console.error(`gridwatch: configuration has ${result.problems.length} problem(s):`);
    for (const p of result.problems) console.error(`  - ${p}`);
    process.exit(2);
  }
  const config = result.config;
  const log = createLogger(config);
  const t0 = performance.now();
  let gateway;
  try {
    gateway = await createGateway({ config, logger: log });
    await gateway.start();
  } catch (err) {
    if (err instanceof SiteFileError) {
      console.error(`gridwatch: ${err.message}`);
      process.exit(2);
    }
    log.fatal({ err }, 'gridwatch failed to start');
    process.exit(1);
  }
  const startupMs = Math.round(performance.now() - t0);
  log.info({ startupMs }, 'ready');
  const lines = [
    '',
    `  gridwatch is running${config.demo ? ' in demo mode (simulated sensors)' : ''}`,
    `  API and console  ${gateway.httpUrl()}/        OpenAPI ${gateway.httpUrl()}/docs`,
    `  MQTT             ${gateway.mqttUrl()}${config.mqtt.url === null && config.mqtt.webSocket ? `   (WebSocket ${gateway.httpUrl().replace('http', 'ws')}/mqtt)` : ''}`,
    `  Health, metrics  ${gateway.httpUrl()}/health   ${gateway.httpUrl()}/metrics`,
  ];
  if (gateway.generatedAdminToken !== null) {
    lines.push(
      '',
      '  Admin API token (shown once; stored only as a hash; set GRIDWATCH_ADMIN_TOKEN to choose your own):',
      `    ${gateway.generatedAdminToken}`,
    );
  }
  console.log(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await gateway.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main();
