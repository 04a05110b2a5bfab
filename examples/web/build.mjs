// Bundles the demo (src/main.jsx and the kit's CSS) into dist/ with esbuild: no dev server, no framework.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/main.jsx'],
  bundle: true,
  outfile: 'dist/bundle.js',
  minify: true,
  sourcemap: true,
  target: ['chrome100'],
  // the kit and getstream look at process.env; in a browser only NODE_ENV is meaningful
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  loader: { '.js': 'jsx', '.png': 'dataurl', '.svg': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl',
            '.ttf': 'dataurl', '.eot': 'dataurl', '.gif': 'dataurl' },
  logLevel: 'warning',
});
copyFileSync('index.html', 'dist/index.html');
console.log('built dist/index.html, dist/bundle.js, dist/bundle.css');
