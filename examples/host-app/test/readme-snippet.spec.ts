import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The wiring the READMEs show is the example host's, which `npm test` type-checks and runs: a
 * README whose snippet differs from the region in app.module.ts fails here, with the text to paste.
 */
const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLE = 'examples/host-app/src/app.module.ts';
const READMES = ['README.md', 'libs/sessions/README.md'];

/** The lines between `// #region readme` and `// #endregion readme` of a source file. */
function sourceRegion(source: string): string {
  const match = /^\/\/ #region readme\n([\s\S]*?)^\/\/ #endregion readme$/m.exec(source);
  if (!match) throw new Error(`${EXAMPLE} has no "// #region readme" ... "// #endregion readme"`);
  return match[1].trimEnd();
}

/** The ```ts block between `<!-- #region readme: <file> -->` and `<!-- #endregion readme -->`, one per README. */
function readmeSnippets(markdown: string, file: string): string[] {
  const regions = [...markdown.matchAll(/<!-- #region readme: (\S+) -->\n([\s\S]*?)<!-- #endregion readme -->/g)];
  return regions
    .filter((region) => region[1] === file)
    .map((region) => {
      const fence = /^```ts\n([\s\S]*?)^```$/m.exec(region[2]);
      if (!fence) throw new Error(`The README region of ${file} holds no \`\`\`ts block`);
      return fence[1].trimEnd();
    });
}

describe('the README wiring snippet', () => {
  const region = sourceRegion(readFileSync(join(ROOT, EXAMPLE), 'utf8'));

  it.each(READMES)('%s shows exactly the example host’s app.module.ts region', (readme) => {
    const snippets = readmeSnippets(readFileSync(join(ROOT, readme), 'utf8'), EXAMPLE);
    expect(snippets).toHaveLength(1);
    if (snippets[0] !== region) {
      throw new Error(`The snippet in ${readme} differs from the region in ${EXAMPLE}. Paste this between its \`\`\`ts fences:\n${region}`);
    }
  });

  it('is not empty and wires the module the way the docs say', () => {
    expect(region).toContain('SessionsModule.forRoot({ isGlobal: true');
    expect(region).toContain('CqrsModule.forRoot()');
    expect(region.split('\n').length).toBeLessThanOrEqual(30);
  });

  it('tells a README that differs by one character from one that matches', () => {
    const markdown = (code: string) => `<!-- #region readme: ${EXAMPLE} -->\n\`\`\`ts\n${code}\n\`\`\`\n<!-- #endregion readme -->\n`;
    expect(readmeSnippets(markdown(region), EXAMPLE)).toEqual([region]);
    expect(readmeSnippets(markdown(region.replace('isGlobal: true', 'isGlobal: false')), EXAMPLE)).not.toEqual([region]);
  });
});

describe('the example host', () => {
  const sources = walk(join(ROOT, 'examples', 'host-app')).filter((file) => file.endsWith('.ts'));

  it('imports the library only through its public entries', () => {
    const deep = sources.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)]
        .map((match) => match[1])
        .filter((specifier) => /libs\/|@app\/(?!sessions(\/testing)?$)/.test(specifier))
        .map((specifier) => `${relative(ROOT, file)}: ${specifier}`),
    );
    expect(sources.length).toBeGreaterThan(5);
    expect(deep).toEqual([]);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
