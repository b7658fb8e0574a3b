import * as sessions from '@app/sessions';
import * as health from '@app/sessions/health';
import * as testing from '@app/sessions/testing';
import * as throttler from '@app/sessions/throttler';
import path from 'node:path';
import ts from 'typescript';

/** The library's public entries: what a host can import, each with the file behind it. */
export const ENTRIES = {
  '@app/sessions': { module: sessions as Record<string, unknown>, file: 'libs/sessions/src/index.ts' },
  '@app/sessions/testing': { module: testing as Record<string, unknown>, file: 'libs/sessions/src/testing/index.ts' },
  '@app/sessions/health': { module: health as Record<string, unknown>, file: 'libs/sessions/src/health/index.ts' },
  '@app/sessions/throttler': { module: throttler as Record<string, unknown>, file: 'libs/sessions/src/throttler/index.ts' },
} as const;
export type EntryName = keyof typeof ENTRIES;
export const ENTRY_NAMES = Object.keys(ENTRIES) as EntryName[];

export const ROOT = path.resolve(__dirname, '../..');

export interface CompiledEntry {
  readonly values: string[];
  readonly types: string[];
  /** For each exported class: its public (not private, not protected) instance methods, inherited ones included. */
  readonly publicMethods: Record<string, string[]>;
}

/** What the compiler sees each entry export (a program over the entries, as tsconfig.json configures it). */
export function compileEntries(): Record<EntryName, CompiledEntry> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('tsconfig.json could not be read');
  const files = Object.values(ENTRIES).map((entry) => path.join(ROOT, entry.file));
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const result = {} as Record<EntryName, CompiledEntry>;
  for (const name of ENTRY_NAMES) {
    const source = program.getSourceFile(path.join(ROOT, ENTRIES[name].file));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${ENTRIES[name].file} is not a module`);
    const values: string[] = [];
    const types: string[] = [];
    const publicMethods: Record<string, string[]> = {};
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const typeOnly = (symbol.declarations ?? []).some((declaration) => ts.isTypeOnlyImportOrExportDeclaration(declaration));
      ((target.flags & ts.SymbolFlags.Value) !== 0 && !typeOnly ? values : types).push(symbol.name);
      if (target.flags & ts.SymbolFlags.Class && !typeOnly) {
        publicMethods[symbol.name] = checker
          .getPropertiesOfType(checker.getDeclaredTypeOfSymbol(target))
          .filter((member) => member.flags & ts.SymbolFlags.Method)
          .filter(
            (member) =>
              !(member.declarations ?? []).some(
                (declaration) => ts.getCombinedModifierFlags(declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected),
              ),
          )
          .map((member) => member.name)
          .sort();
      }
    }
    result[name] = { values: values.sort(), types: types.sort(), publicMethods };
  }
  return result;
}
