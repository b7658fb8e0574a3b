import { createHostApp } from './host-app';
import { hostConfigFromEnvironment } from './host-config';

async function main(): Promise<void> {
  const config = hostConfigFromEnvironment(process.env);
  const app = await createHostApp(config, config.adapter);
  await app.listen(config.port, '127.0.0.1');
  console.log(`host-app (${config.adapter}) listening on http://127.0.0.1:${config.port}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
