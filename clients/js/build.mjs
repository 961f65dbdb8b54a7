// Builds dist/: one ESM module per source file (the package entry points),
// plus dist/herald.min.js, a single minified ESM bundle of the framework-free
// client for pages without a bundler. With --size it prints the minified and
// gzipped sizes of the client with and without the React bindings.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const src = readdirSync('src').filter((f) => f.endsWith('.ts')).map((f) => `src/${f}`);
const common = { format: 'esm', target: 'es2020', platform: 'browser', logLevel: 'warning' };

if (process.argv.includes('--size')) {
  for (const [label, entry] of [
    ['client', 'export * from "./src/index.ts";'],
    ['client + react', 'export * from "./src/index.ts"; export * from "./src/react.ts";'],
  ]) {
    const r = await build({
      ...common,
      stdin: { contents: entry, resolveDir: '.', loader: 'ts' },
      bundle: true,
      minify: true,
      write: false,
      external: ['react'],
    });
    const code = r.outputFiles[0].contents;
    console.log(`${label}: ${code.length} B minified, ${gzipSync(code, { level: 9 }).length} B gzipped`);
  }
} else {
  await build({ ...common, entryPoints: src, outdir: 'dist', bundle: false, sourcemap: true });
  await build({
    ...common,
    entryPoints: ['src/index.ts'],
    outfile: 'dist/herald.min.js',
    bundle: true,
    minify: true,
    sourcemap: true,
  });
}
