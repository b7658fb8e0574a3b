import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const LIBRARY = join(__dirname, '..');
/** An import of an HTTP adapter or its types: a host on the other adapter could not use the library. */
const ADAPTER_IMPORT =
  /from\s+['"](express|fastify|@nestjs\/platform-express|@nestjs\/platform-fastify)(\/[^'"]*)?['"]|require\(\s*['"](express|fastify)['"]\s*\)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('the sessions library is HTTP-adapter neutral', () => {
  it('imports neither Express nor Fastify (nor their Nest platforms) anywhere outside its tests', () => {
    const files = sources(LIBRARY);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter((file) => ADAPTER_IMPORT.test(readFileSync(file, 'utf8'))).map((file) => relative(LIBRARY, file));
    expect(offenders).toEqual([]);
  });
});
